import type { ImportResult } from '../../../shared/commands/cluster.js';
import { UsageError, type CliCommand } from '../cli.js';
import { table } from '../format.js';
import { serviceFor } from '../service-factory.js';

export function formatImport(r: ImportResult): string {
  const c = r.counts;
  const changed = Object.values(c).some((n) => n > 0);
  const head = changed
    ? `Imported ${r.shards.length} shard(s): ${c.runsAdded} run(s) added, ${c.runsUpdated} updated, ` +
      `${c.epochs} epoch(s), ${c.samples} sample(s), ${c.notes} note(s), ${c.artifacts} checkpoint(s), ` +
      `${c.statusChanges} status change(s).`
    : `Imported ${r.shards.length} shard(s): nothing new (this database already has all of it).`;
  if (r.runs.length === 0) return head;
  return [
    head,
    '',
    table(
      ['id', 'status', 'slurm', 'epochs', 'ckpt', 'name', 'reason'],
      r.runs.map((run) => [
        String(run.runId),
        run.status,
        run.cluster ? `${run.cluster.jobId}_${run.cluster.arrayTask} ${run.cluster.state}` : '-',
        String(run.epochs),
        String(run.checkpoints),
        run.name,
        run.status === 'completed' ? '' : (run.reason ?? ''),
      ]),
      'rllrrll',
    ),
  ].join('\n');
}

export const importCommand: CliCommand = {
  name: 'import',
  summary: "Bring a Slurm sweep's results home: merge its task databases (runs, epochs, checkpoints) into this one.",
  help: [
    'Usage: freezelab import SWEEP_DIR|DB [--db FILE] [--home DIR] [--json]',
    '',
    '  SWEEP_DIR        a folder written by `freezelab sweep --slurm` (its tasks/<i>/freezelab.db shards)',
    '  DB               one task database',
    '',
    'Runs are matched by their UUIDs: importing again brings only what is new, and importing while',
    'tasks still run is safe (their later epochs come with the next import). Checkpoints are copied',
    "into this database's run folders. Where Slurm's commands are installed (a login node), each",
    "run's status is also asked of Slurm: a failed task shows Slurm's reason and FreezeLab's.",
    'A database of another FreezeLab schema is refused: use the same version on the cluster.',
  ].join('\n'),
  options: {},
  allowPositionals: true,
  async run(values, positionals, io) {
    if (positionals.length !== 1) throw new UsageError('give one sweep folder or task database.');
    const service = serviceFor('cli', values, { runJobs: false });
    const r = await service.call('cluster.import', { path: positionals[0] });
    await service.close();
    if (!r.ok) {
      io.err(`freezelab import: ${r.error.message}${r.error.hint ? ` ${r.error.hint}` : ''}\n`);
      return 1;
    }
    io.out(values.json ? `${JSON.stringify(r.value, null, 2)}\n` : `${formatImport(r.value)}\n`);
    return 0;
  },
};
