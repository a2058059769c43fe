import { parseFreezeSpec } from '../../../shared/freeze.js';
import { bnPolicySchema, type RunDetail } from '../../../shared/runs.js';
import path from 'node:path';
import { MAX_SEEDS, type SweepRequestInput } from '../../../shared/train-config.js';
import { UsageError, intOption, type CliCommand, type CliIO, type CliValues } from '../cli.js';
import { exitCodeFor, followRuns } from '../follow.js';
import { formatComparison } from './runs.js';
import { serviceFor } from '../service-factory.js';
import { confirmUntrainedFreeze, trainInput, trainOptionHelp, trainOptionSpec } from '../train-options.js';
import { detailFromOne } from '../../service/handlers/export.js';
import type { Service } from '../../service/service.js';

async function finish(service: Service, runIds: readonly number[], values: CliValues, io: CliIO): Promise<number> {
  const statuses = await followRuns(service, runIds, io, values.json === true);
  if (values.json) {
    const details: RunDetail[] = [];
    for (const id of runIds) {
      const r = await service.call('runs.get', { id });
      // Epochs counted from 1, as in the progress lines and run.json (the store counts from 0).
      if (r.ok) details.push(detailFromOne(r.value));
    }
    io.out(`${JSON.stringify(runIds.length === 1 ? details[0] : details, null, 2)}\n`);
  }
  await service.close();
  return exitCodeFor(statuses.values());
}

function failed(command: string, error: { message: string; hint?: string }, io: CliIO): number {
  io.err(`freezelab ${command}: ${error.message}${error.hint ? ` ${error.hint}` : ''}\n`);
  return 1;
}

export const trainCommand: CliCommand = {
  name: 'train',
  summary: 'Fine-tune a YOLOv5 model with frozen layers; records the run (epochs, metrics, memory, time).',
  help: [
    'Usage: freezelab train --weights W | --model M --data D [--img 320] [--batch 16] [--epochs 3]',
    '                       [--freeze SPEC] [--hyp NAME|FILE] [--bn-frozen update|freeze]',
    '                       [--backend NAME] [--seed S] [--cache] [--workers N] [--noautoanchor]',
    '                       [--freeze-untrained] [--name TEXT]',
    '                       [--db FILE] [--json]',
    '       freezelab train --config TASK.json [--home DIR] [--db SHARD]',
    '',
    '  --config FILE    train the run a Slurm task config describes (written by sweep --slurm);',
    '                   the run is created once in the database, a restarted task resumes it',
    trainOptionHelp,
    "  --freeze SPEC    N (modules 0..N-1), a list '0,1,5', a range '0-9', or",
    '                   none (default) | backbone | all-but-detect',
    '',
    'Training runs in a separate process; Ctrl+C cancels at the next batch, keeping what was',
    "recorded. See the run later with 'freezelab runs'; continue an interrupted one with 'freezelab resume ID'.",
  ].join('\n'),
  options: { ...trainOptionSpec, freeze: { type: 'string' }, config: { type: 'string' } },
  async run(values, _positionals, io) {
    if (typeof values.config === 'string') return runTask(values.config, values, io);
    const input = trainInput(values);
    const freeze = typeof values.freeze === 'string' ? values.freeze : 'none';
    try {
      parseFreezeSpec(freeze);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    confirmUntrainedFreeze(values, input.model ? [input.model] : [], [freeze]);
    const service = serviceFor('cli', values);
    const started = await service.call('runs.start', { ...input, freeze });
    if (!started.ok) {
      await service.close();
      return failed('train', started.error, io);
    }
    if (!values.json) io.err(`run ${started.value.runId} queued\n`);
    return finish(service, [started.value.runId], values, io);
  },
};

/** A Slurm array task: the run its config describes, in the task's own database shard. */
async function runTask(config: string, values: CliValues, io: CliIO): Promise<number> {
  const service = serviceFor('cli', values);
  const started = await service.call('cluster.task', { config });
  if (!started.ok) {
    await service.close();
    return failed('train', started.error, io);
  }
  if (!values.json) io.err(`run ${started.value.runId} (task ${config}) queued\n`);
  return finish(service, [started.value.runId], values, io);
}

const list = (v: unknown): string[] | undefined =>
  typeof v === 'string'
    ? v
        .split(/[;]|,(?![^[]*\])/)
        .map((s) => s.trim())
        .filter(Boolean)
    : undefined;

export const sweepCommand: CliCommand = {
  name: 'sweep',
  summary: 'Queue and run one training run per freeze spec (x BN policy x model), all else equal, then compare.',
  help: [
    'Usage: freezelab sweep --freeze none,backbone,all-but-detect --data D (--weights W | --model M)',
    '                       [--bn-frozen update,freeze] [--models n,s] [--seeds K] [training options] [--json]',
    '                       [--slurm [--partition P] [--gpus-per-run N] [--cpus-per-run N] [--time HH:MM:SS]',
    '                        [--account A] [--dir DIR] [--hold] [--dry-run]]',
    '',
    '  --slurm          submit the sweep to Slurm as a job array (one task per run) instead of training',
    '                   here; the runs are recorded at once, queued on Slurm. Bring results home with',
    "                   'freezelab import DIR'. With --json: { sweepId, dir, jobId, runIds }",
    '  --partition P, --account A, --time T   sbatch --partition, --account, --time for every task',
    '  --gpus-per-run N GPUs per task (--gres=gpu:N; default 0)',
    '  --cpus-per-run N CPUs per task (default 1; also the training workers per run)',
    '  --dir DIR        the sweep folder, on a filesystem the nodes share (default <data folder>/sweeps/<id>)',
    '  --hold           submit held: nothing starts until scontrol release JOBID',
    '  --dry-run        print the job-array script; write and submit nothing',
    '',
    '  --freeze LIST    comma-separated freeze specs; use ; between specs that contain commas',
    "                   (e.g. '0,1,2;backbone')",
    '  --bn-frozen LIST update (YOLOv5, default), freeze, or both (one run per policy)',
    '  --models LIST    several model sizes or YAMLs (each with --weights transferred when given)',
    `  --seeds K        repeats: K runs of each configuration, seeds S..S+K-1 (default 1; up to ${MAX_SEEDS});`,
    '                   the comparison then shows mean ± sd and tells differences from seed noise',
    // The single-run --bn-frozen line would contradict the list form above.
    trainOptionHelp
      .split('\n')
      .filter((line) => !line.trimStart().startsWith('--bn-frozen'))
      .join('\n'),
  ].join('\n'),
  options: {
    ...trainOptionSpec,
    freeze: { type: 'string' },
    models: { type: 'string' },
    seeds: { type: 'string' },
    slurm: { type: 'boolean' },
    partition: { type: 'string' },
    'gpus-per-run': { type: 'string' },
    'cpus-per-run': { type: 'string' },
    time: { type: 'string' },
    account: { type: 'string' },
    dir: { type: 'string' },
    'dry-run': { type: 'boolean' },
    hold: { type: 'boolean' },
  },
  async run(values, _positionals, io) {
    const freezes = values.freeze?.toString().includes(';')
      ? values.freeze
          .toString()
          .split(';')
          .map((s) => s.trim())
          .filter(Boolean)
      : list(values.freeze);
    if (!freezes || freezes.length === 0)
      throw new UsageError('--freeze needs a list, e.g. none,backbone,all-but-detect');
    for (const f of freezes) {
      try {
        parseFreezeSpec(f);
      } catch (error) {
        throw new UsageError(`--freeze '${f}': ${(error as Error).message}`);
      }
    }
    const bnList = list(values['bn-frozen']);
    if (bnList?.some((b) => !bnPolicySchema.safeParse(b).success))
      throw new UsageError('--bn-frozen takes update, freeze or both.');
    const bn = bnList?.map((b) => bnPolicySchema.parse(b));
    const models = list(values.models);
    const seeds = intOption(values, 'seeds', 1, 1, MAX_SEEDS);
    const { bnFrozen: _single, ...input } = trainInput({
      ...values,
      'bn-frozen': undefined,
      ...(models && !values.model ? { model: models[0] } : {}),
    });
    confirmUntrainedFreeze(values, [...(input.model ? [input.model] : []), ...(models ?? [])], freezes);
    const request = {
      ...input,
      freezes,
      ...(bn ? { bnPolicies: bn } : {}),
      ...(models ? { models } : {}),
      ...(seeds > 1 ? { seeds } : {}),
    };
    if (values.slurm === true) return submitToSlurm(request, values, io);
    const slurmOnly = SLURM_FLAGS.find((f) => values[f] !== undefined);
    if (slurmOnly) throw new UsageError(`--${slurmOnly} goes with --slurm.`);
    const service = serviceFor('cli', values);
    const started = await service.call('sweeps.start', request);
    if (!started.ok) {
      await service.close();
      return failed('sweep', started.error, io);
    }
    const { runIds, sweepId } = started.value;
    if (!values.json) io.err(`sweep ${sweepId}: runs ${runIds.join(', ')} queued\n`);
    const statuses = await followRuns(service, runIds, io, values.json === true);
    const comparison = await service.call('runs.compare', { ids: [...runIds] });
    await service.close();
    if (!comparison.ok) return failed('sweep', comparison.error, io);
    if (values.json) io.out(`${JSON.stringify({ sweepId, ...comparison.value }, null, 2)}\n`);
    else io.out(`\n${formatComparison(comparison.value)}\n`);
    return exitCodeFor(statuses.values());
  },
};

const SLURM_FLAGS = ['partition', 'gpus-per-run', 'cpus-per-run', 'time', 'account', 'dir', 'dry-run', 'hold'] as const;

async function submitToSlurm(sweep: SweepRequestInput, values: CliValues, io: CliIO): Promise<number> {
  const text = (name: string): string | undefined =>
    typeof values[name] === 'string' ? String(values[name]) : undefined;
  const partition = text('partition');
  const account = text('account');
  const time = text('time');
  const dir = text('dir');
  const service = serviceFor('cli', values, { runJobs: false });
  const submitted = await service.call('cluster.submit', {
    sweep,
    slurm: {
      ...(partition ? { partition } : {}),
      ...(account ? { account } : {}),
      ...(time ? { time } : {}),
      gpusPerRun: intOption(values, 'gpus-per-run', 0, 0, 64),
      cpusPerRun: intOption(values, 'cpus-per-run', 1, 1, 256),
      hold: values.hold === true,
    },
    ...(dir ? { dir: path.resolve(dir) } : {}),
    dryRun: values['dry-run'] === true,
    // The tasks run this very FreezeLab (the same install, on the shared filesystem).
    freezelab: { node: process.execPath, script: path.resolve(process.argv[1] ?? 'bin/freezelab.js') },
  });
  await service.close();
  if (!submitted.ok) return failed('sweep', submitted.error, io);
  const r = submitted.value;
  if (values['dry-run'] === true) {
    io.out(values.json ? `${JSON.stringify({ dir: r.dir, script: r.script }, null, 2)}\n` : r.script);
    return 0;
  }
  if (values.json) {
    io.out(`${JSON.stringify({ sweepId: r.sweepId, dir: r.dir, jobId: r.jobId, runIds: r.runIds }, null, 2)}\n`);
  } else {
    io.out(
      `sweep ${r.sweepId}: runs ${r.runIds.join(', ')} queued on Slurm as job array ${r.jobId} in ${r.dir}\n` +
        `Follow it with 'squeue -j ${r.jobId}'; bring the results home with 'freezelab import ${r.dir}'.\n`,
    );
  }
  return 0;
}
