import path from 'node:path';
import type { ComparisonResult } from '../../../shared/contract.js';
import { bytes } from '../../../shared/format.js';
import type { RunSummary } from '../../../shared/runs.js';
import { UsageError, intOption, type CliCommand, type CliIO } from '../cli.js';
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

export function formatRuns(runs: readonly RunSummary[]): string {
  if (runs.length === 0) return "No runs yet. Start one with 'freezelab train' or 'freezelab sweep'.";
  return table(
    ['id', 'status', 'name', 'model', 'freeze', 'epochs', 'best mAP50', 'best mAP50-95'],
    runs.map(({ run, best }) => [
      String(run.id),
      run.status,
      run.name,
      run.model,
      run.freezeSpec,
      `${run.lastEpochDone + 1}/${run.epochs}`,
      f3(best?.map50),
      f3(best?.map50_95),
    ]),
    'rllllrrr',
  );
}

export function formatComparison(c: ComparisonResult): string {
  const onFront = (id: number) =>
    [c.memoryFrontier.includes(id) ? 'M' : '', c.timeFrontier.includes(id) ? 'T' : ''].join('');
  const rows = c.rows.map((r) => [
    String(r.runId),
    r.freezeLabel,
    r.trainableParams === null ? '-' : r.trainableParams.toLocaleString('en-US'),
    f3(r.finalMap50),
    f3(r.finalMap50_95),
    f3(r.bestMap50),
    f3(r.bestMap50_95),
    r.peakMemoryBytes === null ? '-' : `${bytes(r.peakMemoryBytes)} (${r.peakMemoryKind})`,
    r.secondsPerEpoch === null ? '-' : r.secondsPerEpoch.toFixed(1),
    onFront(r.runId),
  ]);
  return [
    table(
      [
        'run',
        'frozen',
        'trainable',
        'mAP50',
        'mAP50-95',
        'best mAP50',
        'best mAP50-95',
        'peak memory',
        's/epoch',
        'frontier',
      ],
      rows,
      'rlrrrrrrrl',
    ),
    '',
    'frontier: M = accuracy vs memory, T = accuracy vs time per epoch (best mAP50-95).',
    c.recommendation.line,
  ].join('\n');
}

export const runsCommand: CliCommand = {
  name: 'runs',
  summary: 'List recorded runs with their status and best metrics.',
  help: 'Usage: freezelab runs [--sweep ID] [--limit N] [--db FILE] [--json]',
  options: { sweep: { type: 'string' }, limit: { type: 'string' } },
  async run(values, _positionals, io) {
    const service = serviceFor('cli', values, { runJobs: false });
    const sweepId = values.sweep === undefined ? undefined : intOption(values, 'sweep', 1, 1);
    const result = await service.call('runs.list', {
      limit: intOption(values, 'limit', 200, 1, 1000),
      ...(sweepId ? { sweepId } : {}),
    });
    await service.close();
    if (!result.ok) return fail('runs', result.error, io);
    io.out(values.json ? `${JSON.stringify(result.value, null, 2)}\n` : `${formatRuns(result.value)}\n`);
    return 0;
  },
};

export const compareCommand: CliCommand = {
  name: 'compare',
  summary: 'Compare runs: accuracy against peak memory and time per epoch, Pareto frontiers, a recommendation.',
  help: 'Usage: freezelab compare ID... [--baseline ID] [--db FILE] [--json | --csv]',
  options: { baseline: { type: 'string' }, csv: { type: 'boolean' } },
  allowPositionals: true,
  async run(values, positionals, io) {
    const service = serviceFor('cli', values, { runJobs: false });
    const baselineId = values.baseline === undefined ? undefined : intOption(values, 'baseline', 1, 1);
    const result = await service.call('runs.compare', { ids: ids(positionals), ...(baselineId ? { baselineId } : {}) });
    await service.close();
    if (!result.ok) return fail('compare', result.error, io);
    if (values.csv) io.out(result.value.csv);
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

export const exportCommand: CliCommand = {
  name: 'export',
  summary: 'Export a run: its checkpoints (best, last), metrics per epoch (CSV and JSON) and its config.',
  help: 'Usage: freezelab export ID [--out DIR] [--db FILE]   (default DIR: ./freezelab-run-ID)',
  options: { out: { type: 'string' } },
  allowPositionals: true,
  async run(values, positionals, io) {
    const [id] = ids(positionals);
    const out = path.resolve(typeof values.out === 'string' ? values.out : `freezelab-run-${id}`);
    const service = serviceFor('cli', values, { runJobs: false });
    const result = await service.call('runs.export', { id: id!, dir: out });
    await service.close();
    if (!result.ok) return fail('export', result.error, io);
    io.out(`${result.value.files.map((f) => `wrote ${f}`).join('\n')}\n`);
    return 0;
  },
};
