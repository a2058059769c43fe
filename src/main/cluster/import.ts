/**
 * Bringing a sweep's results home: find its shards, refuse one of another schema, merge each
 * (store/queries/merge.ts) with its checkpoints copied into this database's run folders, then
 * decide each run's status from its shard and Slurm (state.ts). Safe to repeat and safe while
 * tasks still write: a checkpoint whose file does not (yet) match its recorded checksum is left
 * for the next import.
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ClusterJob, ImportCounts, ImportedRun, ImportResult } from '../../shared/commands/cluster.js';
import { FreezeLabError } from '../../shared/result.js';
import type { RunStatus } from '../../shared/runs.js';
import {
  addClusterJob,
  clusterJobOf,
  databaseId,
  FREEZELAB_APPLICATION_ID,
  LATEST_SCHEMA_VERSION,
  mergeShard,
  setClusterState,
  userVersion,
  zeroCounts,
  type Db,
  type MergedRun,
  type PlaceArtifact,
} from '../store/index.js';
import { SHARD_FILE, SWEEP_FILE, logPath } from './script.js';
import { slurmTasks, type SlurmTask } from './slurm.js';
import { clusterVerdict, freezelabErrorOf } from './state.js';

/** sweep.json: what the submission wrote (and the job id once sbatch answered). */
export interface SweepFile {
  readonly kind: 'freezelab-slurm-sweep';
  readonly schemaVersion: number;
  readonly uuid: string;
  readonly name: string;
  readonly jobId: string | null;
  readonly runs: readonly { readonly task: number; readonly uuid: string; readonly name: string }[];
}

export function readSweepFile(dir: string): SweepFile | undefined {
  const file = path.join(dir, SWEEP_FILE);
  if (!fs.existsSync(file)) return undefined;
  try {
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as SweepFile;
    if (parsed.kind !== 'freezelab-slurm-sweep') throw new Error('not a FreezeLab sweep file');
    return parsed;
  } catch (error) {
    throw new FreezeLabError('bad-file', `${file} cannot be read: ${(error as Error).message}.`);
  }
}

/** The shards under a sweep folder (tasks/<i>/freezelab.db), or the one shard given. */
export function findShards(target: string): { shards: string[]; sweepDir: string | null; folder: boolean } {
  const p = path.resolve(target);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(p);
  } catch {
    throw new FreezeLabError(
      'not-found',
      `${p} does not exist.`,
      'Give a sweep folder or a task database (freezelab.db).',
    );
  }
  if (stat.isFile()) {
    const maybeSweep = path.resolve(path.dirname(p), '..', '..');
    return {
      shards: [p],
      sweepDir: fs.existsSync(path.join(maybeSweep, SWEEP_FILE)) ? maybeSweep : null,
      folder: false,
    };
  }
  const tasks = path.join(p, 'tasks');
  const shards = fs.existsSync(tasks)
    ? fs
        .readdirSync(tasks)
        .filter((t) => /^\d+$/.test(t))
        .sort((a, b) => Number(a) - Number(b))
        .map((t) => path.join(tasks, t, SHARD_FILE))
        .filter((f) => fs.existsSync(f))
    : [];
  if (shards.length === 0 && !fs.existsSync(path.join(p, SWEEP_FILE))) {
    throw new FreezeLabError(
      'not-found',
      `${p} holds no FreezeLab sweep: no ${SWEEP_FILE} and no tasks/<i>/${SHARD_FILE}.`,
      'Give the folder `freezelab sweep --slurm` printed, or one task database.',
    );
  }
  return { shards, sweepDir: p, folder: true };
}

/** Opens a shard read-only after checking it is a FreezeLab database of this build's schema. */
export function openShard(file: string): Db {
  let db: Db;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (error) {
    throw new FreezeLabError('bad-file', `${file} cannot be opened: ${(error as Error).message}.`);
  }
  try {
    db.pragma('busy_timeout = 5000');
    const appId = db.pragma('application_id', { simple: true }) as number;
    const version = userVersion(db);
    if (appId !== FREEZELAB_APPLICATION_ID) {
      throw new FreezeLabError('bad-file', `${file} is not a FreezeLab database (application id ${appId}).`);
    }
    if (version !== LATEST_SCHEMA_VERSION) {
      throw new FreezeLabError(
        'bad-file',
        `${file} is a FreezeLab database of schema ${version}; this FreezeLab reads schema ${LATEST_SCHEMA_VERSION}, so it is not imported.`,
        version > LATEST_SCHEMA_VERSION
          ? 'It was written by a newer FreezeLab: update FreezeLab here to the version on the cluster.'
          : 'It was written by an older FreezeLab: use the same FreezeLab version on the cluster as here.',
      );
    }
    return db;
  } catch (error) {
    db.close();
    if (error instanceof FreezeLabError) throw error;
    throw new FreezeLabError('bad-file', `${file} cannot be read: ${(error as Error).message}.`);
  }
}

function sha256Sync(file: string): string {
  const hash = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(1 << 20);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

/**
 * Copies a shard's checkpoint into `<runsDir>/<this database's UUID>/<local run id>/`. The file is
 * looked for where the task wrote it, else in the shard's own folder (a sweep folder copied home).
 * A checkpoint whose bytes do not match its recorded checksum is being rewritten: skipped for now.
 */
export function checkpointPlacer(local: Db, runsDir: string, shardFile: string, shardUuid: string): PlaceArtifact {
  const home = path.join(runsDir, databaseId(local));
  return (a, localRunId) => {
    const moved = path.join(path.dirname(shardFile), 'runs', shardUuid, String(a.shardRunId), path.basename(a.path));
    const source = [a.path, moved].find((f) => fs.existsSync(f));
    if (!source) return null;
    const sum = sha256Sync(source);
    if (a.sha256 !== null && sum !== a.sha256) return null;
    const dest = path.join(home, String(localRunId), path.basename(a.path));
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    if (!fs.existsSync(dest) || sha256Sync(dest) !== sum) {
      const tmp = `${dest}.${process.pid}.importing`;
      fs.copyFileSync(source, tmp);
      fs.renameSync(tmp, dest);
    }
    return { path: dest, sha256: sum, bytes: fs.statSync(dest).size };
  };
}

const shardUuidOf = (shard: Db): string =>
  (shard.prepare("SELECT value FROM store_meta WHERE key = 'db_uuid'").get() as { value: string }).value;

function addCounts(a: ImportCounts, b: ImportCounts): ImportCounts {
  const out = { ...a } as Record<keyof ImportCounts, number>;
  for (const k of Object.keys(b) as (keyof ImportCounts)[]) out[k] += b[k];
  return out;
}

/** Slurm's view of these jobs, or undefined when Slurm's tools are not installed here. */
export type AskSlurm = (jobIds: readonly string[]) => Promise<Map<string, SlurmTask> | undefined>;

export const askSlurm: AskSlurm = async (jobIds) => {
  try {
    return await slurmTasks(jobIds);
  } catch (error) {
    if (error instanceof FreezeLabError && error.code === 'not-found') return undefined;
    throw error;
  }
};

function logErrorOf(job: ClusterJob): string | null {
  const file = job.logPath;
  if (!file || !fs.existsSync(file)) return null;
  try {
    const text = fs.readFileSync(file, 'utf8');
    return freezelabErrorOf(text.slice(-64 * 1024));
  } catch {
    return null;
  }
}

/** The status of each given cluster run from Slurm and its shard's last word; writes what changed. */
export async function applyClusterStates(
  local: Db,
  runIds: readonly number[],
  shardRuns: ReadonlyMap<number, MergedRun>,
  ask: AskSlurm,
  onStatus?: (runId: number, status: RunStatus, reason: string | null) => void,
): Promise<number> {
  const jobs = runIds.map((id) => clusterJobOf(local, id)).filter((j): j is ClusterJob => j !== undefined);
  const live = jobs.filter((j) => j.jobId !== 'unknown' && !['completed', 'failed', 'cancelled'].includes(j.state));
  const slurm = live.length > 0 ? await ask([...new Set(live.map((j) => j.jobId))]) : new Map<string, SlurmTask>();
  let changed = 0;
  for (const job of jobs) {
    const run = local.prepare('SELECT status, status_reason FROM runs WHERE id = ?').get(job.runId) as {
      status: RunStatus;
      status_reason: string | null;
    };
    const shard = shardRuns.get(job.runId);
    const asked = slurm !== undefined && live.includes(job);
    const verdict = clusterVerdict({
      jobId: job.jobId,
      arrayTask: job.arrayTask,
      slurmAsked: asked,
      ...(asked && slurm.get(`${job.jobId}_${job.arrayTask}`)
        ? { slurm: slurm.get(`${job.jobId}_${job.arrayTask}`)! }
        : {}),
      ...(shard ? { shard: { status: shard.status, reason: shard.reason, lastEpochDone: shard.lastEpochDone } } : {}),
      logError: logErrorOf(job),
      previous: {
        state: job.state,
        reason: job.reason,
        exitCode: job.exitCode,
        status: run.status,
        statusReason: run.status_reason,
      },
    });
    const res = setClusterState(local, job.runId, verdict);
    if (res.jobChanged || res.statusChanged || verdict.statusReason !== run.status_reason) changed++;
    if (res.statusChanged) onStatus?.(job.runId, verdict.status, verdict.statusReason);
  }
  return changed;
}

/** Reads a shard's runs (read-only) for the state of cluster runs, without merging anything. */
export function shardRunsOf(local: Db, jobs: readonly ClusterJob[]): Map<number, MergedRun> {
  const out = new Map<number, MergedRun>();
  for (const job of jobs) {
    if (!fs.existsSync(job.shardPath)) continue;
    const shard = openShard(job.shardPath);
    try {
      const uuid = (local.prepare('SELECT uuid FROM runs WHERE id = ?').get(job.runId) as { uuid: string }).uuid;
      const r = shard
        .prepare('SELECT id, status, status_reason, last_epoch_done FROM runs WHERE uuid = ?')
        .get(uuid) as
        { id: number; status: RunStatus; status_reason: string | null; last_epoch_done: number } | undefined;
      if (r) {
        out.set(job.runId, {
          localId: job.runId,
          shardId: r.id,
          uuid,
          added: false,
          status: r.status,
          reason: r.status_reason,
          lastEpochDone: r.last_epoch_done,
        });
      }
    } finally {
      shard.close();
    }
  }
  return out;
}

/**
 * Imports a sweep folder or one shard into `local`. Runs not yet known here are recorded as
 * cluster runs (job id from sweep.json when there is one), so no local runner ever claims them.
 */
export async function importSweep(
  local: Db,
  target: string,
  opts: {
    runsDir: string;
    ask?: AskSlurm;
    onStatus?: (runId: number, status: RunStatus, reason: string | null) => void;
  },
): Promise<ImportResult> {
  const { shards, sweepDir, folder } = findShards(target);
  const sweep = sweepDir ? readSweepFile(sweepDir) : undefined;
  // Refuse before writing anything: every shard must be readable and of this schema.
  const opened = shards.map((file) => ({ file, db: openShard(file) }));
  let counts = zeroCounts();
  const shardRuns = new Map<number, MergedRun>();
  try {
    for (const { file, db } of opened) {
      const merged = mergeShard(local, db, checkpointPlacer(local, opts.runsDir, file, shardUuidOf(db)));
      counts = addCounts(counts, merged.counts);
      for (const r of merged.runs) {
        shardRuns.set(r.localId, r);
        const task = sweep?.runs.find((t) => t.uuid === r.uuid)?.task ?? taskOf(file);
        const dir = sweepDir ?? path.dirname(file);
        const added = addClusterJob(local, {
          runId: r.localId,
          scheduler: 'slurm',
          jobId: sweep?.jobId ?? 'unknown',
          arrayTask: task,
          sweepDir: dir,
          shardPath: file,
          logPath: sweepDir ? logPath(sweepDir, task, 'err') : null,
          state:
            r.status === 'completed'
              ? 'completed'
              : r.status === 'failed'
                ? 'failed'
                : r.status === 'cancelled'
                  ? 'cancelled'
                  : 'unknown',
          reason: null,
        });
        if (added) counts = addCounts(counts, { ...zeroCounts(), clusterJobs: 1 });
      }
    }
  } finally {
    for (const { db } of opened) db.close();
  }
  // Tasks that never wrote a shard (failed at once) are known only from sweep.json and Slurm.
  const runIds = new Set(shardRuns.keys());
  if (sweep && folder) {
    for (const t of sweep.runs) {
      const row = local.prepare('SELECT id FROM runs WHERE uuid = ?').get(t.uuid) as { id: number } | undefined;
      if (row && clusterJobOf(local, row.id)) runIds.add(row.id);
    }
  }
  const ids = [...runIds].sort((a, b) => a - b);
  const changed = await applyClusterStates(local, ids, shardRuns, opts.ask ?? askSlurm, opts.onStatus);
  counts = addCounts(counts, { ...zeroCounts(), statusChanges: changed });
  return { shards, counts, runs: ids.map((id) => importedRun(local, id)) };
}

const taskOf = (shard: string): number => {
  const n = Number(path.basename(path.dirname(shard)));
  return Number.isInteger(n) && n >= 0 ? n : 0;
};

export function importedRun(local: Db, runId: number): ImportedRun {
  const r = local.prepare('SELECT uuid, name, status, status_reason FROM runs WHERE id = ?').get(runId) as {
    uuid: string;
    name: string;
    status: RunStatus;
    status_reason: string | null;
  };
  const count = (sql: string) => (local.prepare(sql).get(runId) as { n: number }).n;
  return {
    runId,
    uuid: r.uuid,
    name: r.name,
    status: r.status,
    reason: r.status_reason,
    epochs: count('SELECT COUNT(*) AS n FROM epochs WHERE run_id = ?'),
    checkpoints: count("SELECT COUNT(*) AS n FROM artifacts WHERE run_id = ? AND kind IN ('best', 'last')"),
    cluster: clusterJobOf(local, runId) ?? null,
  };
}
