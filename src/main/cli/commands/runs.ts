import path from 'node:path';
import {
  CONFIG_FIELD_LABELS,
  CONFIG_FIELDS,
  DEFAULT_RECOMMEND_OPTIONS,
  joinNames,
  meanSdText,
  metricName,
  recommendationRule,
  type GroupMetric,
  type RunGroup,
} from '../../../shared/compare.js';
import type { ComparisonResult } from '../../../shared/contract.js';
import { bytes } from '../../../shared/format.js';
import type { ClusterJob } from '../../../shared/commands/cluster.js';
import type { RunSummary } from '../../../shared/runs.js';
import { summaryFromOne } from '../../service/handlers/export.js';
import { ONNX_OPSET_MAX, ONNX_OPSET_MIN } from '../../../shared/commands/model-export.js';
import { UsageError, intOption, type CliCommand, type CliIO, type CliValues } from '../cli.js';
import { exitCodeFor, followRuns } from '../follow.js';
import { table } from '../format.js';
import { serviceFor } from '../service-factory.js';

const f3 = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : v.toFixed(3));

function ids(positionals: string[]): number[] {
  if (positionals.length === 0) throw new UsageError('give one or more run ids (see freezelab runs).');
  return positionals.map((p) => {
    const id = Number(p);
    if (!Number.isInteger(id) || id <= 0) throw new UsageError(`'${p}' is not a run id.`);
    return id;
  });
}

function fail(command: string, error: { message: string; hint?: string }, io: CliIO): number {
  io.err(`freezelab ${command}: ${error.message}${error.hint ? ` ${error.hint}` : ''}\n`);
  return 1;
}

/** The runs table; with cluster runs among them, a `where` column (here, or Slurm job_task and state). */
export function formatRuns(runs: readonly RunSummary[], cluster: ReadonlyMap<number, ClusterJob> = new Map()): string {
  if (runs.length === 0) return "No runs yet. Start one with 'freezelab train' or 'freezelab sweep'.";
  const where = runs.some(({ run }) => cluster.has(run.id));
  const whereOf = (id: number): string[] => {
    if (!where) return [];
    const job = cluster.get(id);
    return [job ? `slurm ${job.jobId}_${job.arrayTask} ${job.reason ?? job.state}` : 'here'];
  };
  return table(
    ['id', 'status', ...(where ? ['where'] : []), 'name', 'model', 'freeze', 'epochs', 'best mAP50', 'best mAP50-95'],
    runs.map(({ run, best }) => [
      String(run.id),
      run.status,
      ...whereOf(run.id),
      run.name,
      run.model,
      run.freezeSpec,
      `${run.lastEpochDone + 1}/${run.epochs}`,
      f3(best?.map50),
      f3(best?.map50_95),
    ]),
    where ? 'rlllllrrr' : 'rllllrrr',
  );
}

const meanSd = (g: RunGroup, m: GroupMetric, show: (v: number) => string): string =>
  meanSdText(g, m, show).replace('–', '-');

export function formatComparison(c: ComparisonResult): string {
  const out: string[] = [];
  const rec = c.recommendation;
  if (c.sets.length > 1) {
    out.push(rec.line, '');
  }
  for (const set of c.sets) {
    const groups = c.groups.filter((g) => g.setId === set.id);
    const onFront = (id: number) =>
      [set.memoryFrontier.includes(id) ? 'M' : '', set.timeFrontier.includes(id) ? 'T' : ''].join('');
    const memoryTitle = `peak ${set.memoryKind === 'gpu' ? 'GPU' : 'tensor'} memory`;
    out.push(
      c.sets.length > 1 ? `Set ${set.id} of ${c.sets.length}: ${set.label}` : `Runs of ${set.label}`,
      ...(c.sets.length > 1
        ? [`  ${CONFIG_FIELDS.map((f) => `${CONFIG_FIELD_LABELS[f]}: ${set.config[f]}`).join('; ')}`]
        : []),
      table(
        [
          'group',
          'frozen',
          'runs',
          'n',
          'trainable',
          'best mAP50',
          'best mAP50-95',
          memoryTitle,
          's/epoch',
          'frontier',
        ],
        groups.map((g) => [
          `${g.id}${g.id === set.recommendation.groupId ? '*' : ''}`,
          g.label,
          g.runIds.join(','),
          String(g.n),
          g.trainableParams === null ? '-' : g.trainableParams.toLocaleString('en-US'),
          meanSd(g, 'bestMap50', (v) => v.toFixed(3)),
          meanSd(g, 'bestMap50_95', (v) => v.toFixed(3)),
          meanSd(g, 'memoryBytes', bytes),
          meanSd(g, 'secondsPerEpoch', (v) => v.toFixed(1)),
          onFront(g.id),
        ]),
        'rllrrrrrrl',
      ),
      `Recommendation (* above): ${set.recommendation.line}`,
      ...(set.recommendation.noise ? [`Noise: ${set.recommendation.noise}`] : []),
      ...(set.maxSeeds <= 1
        ? ['One seed per configuration: differences of a few hundredths of mAP can be seed noise (sweep --seeds K).']
        : []),
      '',
    );
  }
  out.push(
    `frontier: M = ${metricName(rec.metric)} vs memory, T = vs time per epoch (group means, within each set). ` +
      'Memory: GPU memory where measured, else the peak in-step tensor memory.',
    `Rule: ${rec.rule}`,
  );
  return out.join('\n');
}

export const runsCommand: CliCommand = {
  name: 'runs',
  summary: 'List recorded runs with their status and best metrics.',
  help: [
    'Usage: freezelab runs [--sweep ID] [--limit N] [--db FILE] [--json]',
    '',
    'Epochs count from 1 in the table and in --json (lastEpochDone is the number of epochs done).',
    'Runs submitted to Slurm (sweep --slurm) show where they run; their state is asked of Slurm and',
    'their epochs read from their shards first (freezelab import brings their checkpoints).',
  ].join('\n'),
  options: { sweep: { type: 'string' }, limit: { type: 'string' } },
  async run(values, _positionals, io) {
    const service = serviceFor('cli', values, { runJobs: false });
    const sweepId = values.sweep === undefined ? undefined : intOption(values, 'sweep', 1, 1);
    // Unfinished cluster runs: Slurm's state and the epochs their shards recorded, brought in first
    // (nothing to do without any). If Slurm cannot be asked, the list shows what was last known.
    let jobs = await service.call('cluster.refresh', {});
    if (!jobs.ok) {
      io.err(`freezelab runs: Slurm states not refreshed: ${jobs.error.message}\n`);
      jobs = await service.call('cluster.jobs', {});
    }
    const cluster = new Map(jobs.ok ? jobs.value.map((j) => [j.runId, j] as const) : []);
    const result = await service.call('runs.list', {
      limit: intOption(values, 'limit', 200, 1, 1000),
      ...(sweepId ? { sweepId } : {}),
    });
    await service.close();
    if (!result.ok) return fail('runs', result.error, io);
    // JSON counts epochs from 1, as the table above and run exports do (the store counts from 0).
    const json = () =>
      result.value.map((s) => {
        const job = cluster.get(s.run.id);
        return { ...summaryFromOne(s), ...(job ? { cluster: job } : {}) };
      });
    io.out(values.json ? `${JSON.stringify(json(), null, 2)}\n` : `${formatRuns(result.value, cluster)}\n`);
    return 0;
  },
};

/** Words of `text` in lines of at most `width` characters, for help text. */
function wrap(text: string, width = 100): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return line ? [...lines, line] : lines;
}

export const compareCommand: CliCommand = {
  name: 'compare',
  summary:
    'Compare runs: groups of repeats (mean ± sd) within comparable sets, frontiers, a recommendation by a stated rule.',
  help: [
    'Usage: freezelab compare ID... [--metric map50-95|map50] [--tolerance T] [--save memory|time|both]',
    '                         [--db FILE] [--json | --csv | --groups-csv]',
    '',
    ...wrap(
      `Runs compare only when they match in ${joinNames(CONFIG_FIELDS.map((f) => CONFIG_FIELD_LABELS[f]))}; ` +
        'other runs form separate sets, each with its own frontier and recommendation. Runs of one ' +
        'configuration with different seeds form a group (mean ± sd, 95% interval).',
    ),
    '',
    `  --metric M       accuracy metric for everything below (default ${metricName(DEFAULT_RECOMMEND_OPTIONS.metric)})`,
    `  --tolerance T    accuracy you accept to lose against the best group (default ${DEFAULT_RECOMMEND_OPTIONS.tolerance})`,
    `  --save WHAT      what freezing should save: memory, time or both (default ${DEFAULT_RECOMMEND_OPTIONS.save})`,
    '  --csv            one line per run, with its set and group',
    '  --groups-csv     one line per group: n, mean, sd, range, 95% interval, recommendation, rule',
    '  --json           sets, groups (runIds, n, mean, sd, ...), rows, the recommendation and its rule',
    '',
    ...wrap(`Rule (with the defaults): ${recommendationRule(DEFAULT_RECOMMEND_OPTIONS)}`),
  ].join('\n'),
  options: {
    metric: { type: 'string' },
    tolerance: { type: 'string' },
    save: { type: 'string' },
    csv: { type: 'boolean' },
    'groups-csv': { type: 'boolean' },
  },
  allowPositionals: true,
  async run(values, positionals, io) {
    const metric = values.metric === undefined ? undefined : String(values.metric).replace('-', '_');
    if (metric !== undefined && metric !== 'map50_95' && metric !== 'map50') {
      throw new UsageError(`--metric takes map50-95 or map50, got '${String(values.metric)}'.`);
    }
    const tolerance = values.tolerance === undefined ? undefined : Number(values.tolerance);
    if (tolerance !== undefined && !(Number.isFinite(tolerance) && tolerance >= 0 && tolerance <= 1)) {
      throw new UsageError(`--tolerance takes a number from 0 to 1 (e.g. 0.01), got '${String(values.tolerance)}'.`);
    }
    const save = values.save;
    if (save !== undefined && save !== 'memory' && save !== 'time' && save !== 'both') {
      throw new UsageError(`--save takes memory, time or both, got '${String(save)}'.`);
    }
    const runIds = ids(positionals);
    const service = serviceFor('cli', values, { runJobs: false });
    const result = await service.call('runs.compare', {
      ids: runIds,
      ...(metric !== undefined ? { metric } : {}),
      ...(tolerance !== undefined ? { tolerance } : {}),
      ...(save !== undefined ? { save } : {}),
    });
    await service.close();
    if (!result.ok) return fail('compare', result.error, io);
    if (values.csv) io.out(result.value.csv);
    else if (values['groups-csv']) io.out(result.value.groupsCsv);
    else if (values.json) io.out(`${JSON.stringify(result.value, null, 2)}\n`);
    else io.out(`${formatComparison(result.value)}\n`);
    return 0;
  },
};

export const resumeCommand: CliCommand = {
  name: 'resume',
  summary: 'Resume an interrupted, failed or cancelled run from its last checkpoint and follow it.',
  help: 'Usage: freezelab resume ID [--db FILE] [--json]',
  options: {},
  allowPositionals: true,
  async run(values, positionals, io) {
    const [id] = ids(positionals);
    const service = serviceFor('cli', values);
    const result = await service.call('runs.resume', { id: id! });
    if (!result.ok) {
      await service.close();
      return fail('resume', result.error, io);
    }
    const statuses = await followRuns(service, [id!], io, values.json === true);
    await service.close();
    return exitCodeFor(statuses.values());
  },
};

export const cancelCommand: CliCommand = {
  name: 'cancel',
  summary: 'Cancel queued runs, or runs on Slurm (scancel); what they recorded is kept.',
  help: [
    'Usage: freezelab cancel ID... [--db FILE] [--json]',
    '',
    'A queued run is cancelled before it starts; a run submitted with sweep --slurm is cancelled',
    'with scancel, queued or running. A run training in another FreezeLab process (the window,',
    'serve, or a train/sweep command) is cancelled there: Ctrl+C, or its Cancel button. Cancelled',
    'runs can be resumed (freezelab resume ID), except Slurm runs, which are submitted again.',
  ].join('\n'),
  options: {},
  allowPositionals: true,
  async run(values, positionals, io) {
    const runIds = ids(positionals);
    const service = serviceFor('cli', values, { runJobs: false });
    const answers: { runId: number; status?: string; error?: string }[] = [];
    let failed = 0;
    try {
      for (const id of runIds) {
        const r = await service.call('runs.cancel', { id });
        if (r.ok) {
          answers.push({ runId: id, status: r.value.status });
          if (!values.json) io.out(`run ${id}: ${r.value.status}\n`);
        } else {
          failed++;
          answers.push({ runId: id, error: r.error.message });
          fail('cancel', r.error, io);
        }
      }
    } finally {
      await service.close();
    }
    if (values.json) io.out(`${JSON.stringify(answers, null, 2)}\n`);
    return failed > 0 ? 1 : 0;
  },
};

export const exportCommand: CliCommand = {
  name: 'export',
  summary: 'Export a run (checkpoints, metrics per epoch, config), or a run or weights file as ONNX.',
  help: [
    'Usage: freezelab export ID [--out DIR] [--force] [--db FILE]   (default DIR: ./freezelab-run-ID)',
    '       freezelab export ID --format onnx [--out DIR] [--img 640] [--opset 12] [--force] [--json]',
    '       freezelab export --weights W --format onnx [--out DIR] [--img 640] [--opset 12] [--force]',
    '',
    'Without --format: writes best and last checkpoints, epochs.csv and run.json; epochs count from 1',
    'in both. DIR is made new; a folder that exists and is not empty is refused unless --force (which',
    'replaces the files of the same name, and nothing else).',
    '',
    "--format onnx: writes the run's best checkpoint (run-ID-best.onnx; default DIR ./freezelab-run-ID)",
    "or the weights W (W's name with .onnx; default DIR: the current folder) as ONNX, as YOLOv5's",
    'export does: input images [1,3,N,N] (RGB, 0-1), output output0 [1, boxes, 5+classes] (xywh in',
    'input pixels, objectness, class scores), class names in the metadata (names, stride, imgsz).',
    'Other files in DIR are left alone; an existing file of the same name is refused unless --force.',
    `  --img N       input size: a multiple of 32 (64 for P6 models), at most 2048 (default 640)`,
    `  --opset N     ONNX opset, ${ONNX_OPSET_MIN} to ${ONNX_OPSET_MAX} (default ${ONNX_OPSET_MIN})`,
    '  --json        the result as JSON: files written, input and output shapes, class names, warning',
  ].join('\n'),
  options: {
    out: { type: 'string' },
    force: { type: 'boolean' },
    format: { type: 'string' },
    weights: { type: 'string' },
    img: { type: 'string' },
    opset: { type: 'string' },
  },
  allowPositionals: true,
  async run(values, positionals, io) {
    const format = values.format === undefined ? 'run' : String(values.format).toLowerCase();
    if (format !== 'run' && format !== 'onnx') {
      throw new UsageError(`--format takes onnx (or nothing, for a run's files), got '${String(values.format)}'.`);
    }
    if (format === 'onnx') return exportOnnx(values, positionals, io);
    if (values.weights !== undefined || values.img !== undefined || values.opset !== undefined) {
      throw new UsageError('--weights, --img and --opset go with --format onnx.');
    }
    const [id] = ids(positionals);
    const out = path.resolve(typeof values.out === 'string' ? values.out : `freezelab-run-${id}`);
    const service = serviceFor('cli', values, { runJobs: false });
    const result = await service.call('runs.export', { id: id!, dir: out, force: values.force === true });
    await service.close();
    if (!result.ok) return fail('export', result.error, io);
    io.out(`${result.value.files.map((f) => `wrote ${f}`).join('\n')}\n`);
    return 0;
  },
};

/** `export ... --format onnx`: a run (by id) or a weights file. */
async function exportOnnx(values: CliValues, positionals: string[], io: CliIO): Promise<number> {
  const weights = typeof values.weights === 'string' ? values.weights : undefined;
  if (weights !== undefined && positionals.length > 0) {
    throw new UsageError('give a run id or --weights W, not both.');
  }
  if (weights === undefined && positionals.length !== 1) {
    throw new UsageError('give one run id, or --weights W (see freezelab runs).');
  }
  const id = weights === undefined ? ids(positionals)[0] : undefined;
  const defaultOut = id !== undefined ? `freezelab-run-${id}` : '.';
  const out = path.resolve(typeof values.out === 'string' ? values.out : defaultOut);
  const opset = intOption(values, 'opset', ONNX_OPSET_MIN, 1, 1000);
  if (opset < ONNX_OPSET_MIN || opset > ONNX_OPSET_MAX) {
    throw new UsageError(
      `--opset ${opset} is not supported: the ONNX export writes opsets ${ONNX_OPSET_MIN} to ${ONNX_OPSET_MAX}.`,
    );
  }
  const service = serviceFor('cli', values, { runJobs: false });
  const result = await service.call('model.export', {
    ...(id !== undefined ? { runId: id } : { weights: weights! }),
    format: 'onnx',
    out,
    imgSize: intOption(values, 'img', 640, 32, 2048),
    opset,
    force: values.force === true,
  });
  await service.close();
  if (!result.ok) return fail('export', result.error, io);
  const r = result.value;
  if (r.warning) io.err(`freezelab export: warning: ${r.warning}\n`);
  if (values.json) {
    io.out(`${JSON.stringify(r, null, 2)}\n`);
    return 0;
  }
  io.out(
    [
      ...r.files.map((f) => `wrote ${f}`),
      `  ONNX opset ${r.opset}: images [${r.inputShape.join(', ')}] -> output0 [${r.outputShape.join(', ')}], ` +
        `${r.names.length} classes, ${bytes(r.bytes)}`,
    ].join('\n') + '\n',
  );
  return 0;
}
