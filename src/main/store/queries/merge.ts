/**
 * Merging another FreezeLab database (a cluster task's shard) into this one. Runs and sweeps are
 * matched by UUID; epochs, per-class AP, samples, notes, evaluations and artifacts by their natural
 * keys, so merging the same shard twice changes nothing and a shard still being written can be
 * merged again later for what it added. The shard is read in one transaction (a consistent
 * snapshot even while its task writes); everything is written in one transaction here.
 */
import type { ImportCounts } from '../../../shared/commands/cluster.js';
import type { ArtifactKind, RunStatus } from '../../../shared/runs.js';
import type { Db } from '../db.js';

/** A checkpoint as the shard recorded it (its path is where the task wrote it). */
export interface ShardArtifact {
  readonly shardRunId: number;
  readonly kind: ArtifactKind;
  readonly path: string;
  readonly sha256: string | null;
  readonly bytes: number | null;
  readonly epoch: number | null;
  readonly createdAt: number;
}

/** Where a merged checkpoint now is, or null to leave it for a later import (e.g. still being written). */
export type PlaceArtifact = (
  a: ShardArtifact,
  localRunId: number,
) => { readonly path: string; readonly sha256: string | null; readonly bytes: number | null } | null;

export interface MergedRun {
  readonly localId: number;
  readonly shardId: number;
  readonly uuid: string;
  readonly added: boolean;
  readonly status: RunStatus;
  readonly reason: string | null;
  readonly lastEpochDone: number;
}

/** Copied as they are when a run is added. */
const RUN_COLUMNS = [
  'created_at',
  'name',
  'status',
  'status_reason',
  'config_json',
  'dataset_path',
  'dataset_fingerprint',
  'weights_path',
  'weights_sha256',
  'model',
  'img_size',
  'batch',
  'epochs',
  'freeze_spec',
  'frozen_modules_json',
  'bn_policy',
  'hyp_name',
  'backend',
  'trainable_params',
  'total_params',
  'seed',
  'started_at',
  'finished_at',
  'last_epoch_done',
  'best_fitness',
  'best_epoch',
  'uuid',
] as const;

/**
 * What training changes in a run after it was created: brought up to date when a run is merged
 * again. The status and its reason are not: for a cluster run they follow the scheduler too (see
 * cluster/state.ts), which decides them from the shard's status returned here.
 */
const PROGRESS_COLUMNS = [
  'frozen_modules_json',
  'trainable_params',
  'total_params',
  'backend',
  'started_at',
  'finished_at',
  'last_epoch_done',
  'best_fitness',
  'best_epoch',
] as const;

const EPOCH_COLUMNS = [
  'epoch',
  'box_loss',
  'obj_loss',
  'cls_loss',
  'lr0',
  'lr1',
  'lr2',
  'precision',
  'recall',
  'map50',
  'map50_95',
  'fitness',
  'seconds',
  'images_per_second',
  'peak_tensor_bytes',
  'peak_rss_bytes',
  'peak_gpu_mem_bytes',
] as const;
const CLASS_AP_COLUMNS = ['epoch', 'class_id', 'name', 'images', 'instances', 'p', 'r', 'ap50', 'ap50_95'] as const;
const SAMPLE_COLUMNS = [
  't_ms',
  'tensor_bytes',
  'rss_bytes',
  'gpu_mem_used_bytes',
  'gpu_util',
  'process_gpu_mem_bytes',
] as const;

type Row = Record<string, unknown>;
const marks = (n: number): string => Array.from({ length: n }, () => '?').join(', ');
const pick = (row: Row, cols: readonly string[]): unknown[] => cols.map((c) => row[c] ?? null);

/** Counts of an import that changed nothing (a fresh, writable copy each call). */
export const zeroCounts = (): { -readonly [K in keyof ImportCounts]: number } => ({
  sweeps: 0,
  runsAdded: 0,
  runsUpdated: 0,
  epochs: 0,
  classAp: 0,
  samples: 0,
  notes: 0,
  artifacts: 0,
  evaluations: 0,
  clusterJobs: 0,
  statusChanges: 0,
});

/** Reads everything of the shard in one snapshot. */
function readShard(shard: Db) {
  return shard.transaction(() => ({
    sweeps: shard.prepare('SELECT * FROM sweeps').all() as Row[],
    runs: shard.prepare('SELECT * FROM runs ORDER BY id').all() as Row[],
    epochs: shard.prepare('SELECT * FROM epochs ORDER BY run_id, epoch').all() as Row[],
    classAp: shard.prepare('SELECT * FROM class_ap').all() as Row[],
    samples: shard.prepare('SELECT * FROM samples ORDER BY run_id, t_ms').all() as Row[],
    notes: shard.prepare('SELECT * FROM run_notes ORDER BY id').all() as Row[],
    artifacts: shard.prepare('SELECT * FROM artifacts ORDER BY id').all() as Row[],
    evaluations: shard.prepare('SELECT * FROM evaluations ORDER BY id').all() as Row[],
  }))();
}

/**
 * Merges `shard` into `local`. `place` brings a checkpoint's file home (called only for
 * checkpoints this database does not have yet). Returns what changed and the shard's runs.
 */
export function mergeShard(local: Db, shard: Db, place: PlaceArtifact): { counts: ImportCounts; runs: MergedRun[] } {
  const data = readShard(shard);
  const counts = zeroCounts();
  const merged: MergedRun[] = [];
  local
    .transaction(() => {
      const sweepIds = new Map<number, number>();
      for (const s of data.sweeps) {
        const found = local.prepare('SELECT id FROM sweeps WHERE uuid = ?').get(s.uuid) as { id: number } | undefined;
        if (found) {
          sweepIds.set(s.id as number, found.id);
          continue;
        }
        const info = local
          .prepare('INSERT INTO sweeps (created_at, name, config_json, uuid) VALUES (?, ?, ?, ?)')
          .run(s.created_at, s.name, s.config_json, s.uuid);
        sweepIds.set(s.id as number, Number(info.lastInsertRowid));
        counts.sweeps++;
      }

      const runIds = new Map<number, number>();
      for (const r of data.runs) {
        const existing = local.prepare('SELECT * FROM runs WHERE uuid = ?').get(r.uuid) as Row | undefined;
        let localId: number;
        if (existing) {
          localId = existing.id as number;
          const changed = PROGRESS_COLUMNS.filter((c) => (existing[c] ?? null) !== (r[c] ?? null));
          if (changed.length > 0) {
            local
              .prepare(`UPDATE runs SET ${changed.map((c) => `${c} = ?`).join(', ')} WHERE id = ?`)
              .run(...pick(r, changed), localId);
            counts.runsUpdated++;
          }
        } else {
          const info = local
            .prepare(`INSERT INTO runs (sweep_id, ${RUN_COLUMNS.join(', ')}) VALUES (?, ${marks(RUN_COLUMNS.length)})`)
            .run(r.sweep_id === null ? null : (sweepIds.get(r.sweep_id as number) ?? null), ...pick(r, RUN_COLUMNS));
          localId = Number(info.lastInsertRowid);
          counts.runsAdded++;
        }
        runIds.set(r.id as number, localId);
        merged.push({
          localId,
          shardId: r.id as number,
          uuid: r.uuid as string,
          added: !existing,
          status: r.status as RunStatus,
          reason: (r.status_reason as string | null) ?? null,
          lastEpochDone: r.last_epoch_done as number,
        });
      }
      const to = (shardRunId: unknown): number => runIds.get(shardRunId as number)!;

      const epoch = local.prepare(
        `INSERT OR IGNORE INTO epochs (run_id, ${EPOCH_COLUMNS.join(', ')}) VALUES (?, ${marks(EPOCH_COLUMNS.length)})`,
      );
      for (const e of data.epochs) counts.epochs += epoch.run(to(e.run_id), ...pick(e, EPOCH_COLUMNS)).changes;
      const ap = local.prepare(
        `INSERT OR IGNORE INTO class_ap (run_id, ${CLASS_AP_COLUMNS.join(', ')}) VALUES (?, ${marks(CLASS_AP_COLUMNS.length)})`,
      );
      for (const c of data.classAp) counts.classAp += ap.run(to(c.run_id), ...pick(c, CLASS_AP_COLUMNS)).changes;
      const sample = local.prepare(
        `INSERT INTO samples (run_id, ${SAMPLE_COLUMNS.join(', ')})
         SELECT ?, ${marks(SAMPLE_COLUMNS.length)}
         WHERE NOT EXISTS (SELECT 1 FROM samples WHERE run_id = ? AND t_ms = ?)`,
      );
      for (const s of data.samples) {
        counts.samples += sample.run(to(s.run_id), ...pick(s, SAMPLE_COLUMNS), to(s.run_id), s.t_ms).changes;
      }
      const note = local.prepare(
        `INSERT INTO run_notes (run_id, created_at, level, message) SELECT ?, ?, ?, ?
         WHERE NOT EXISTS (SELECT 1 FROM run_notes WHERE run_id = ? AND message = ?)`,
      );
      for (const n of data.notes) {
        counts.notes += note.run(to(n.run_id), n.created_at, n.level, n.message, to(n.run_id), n.message).changes;
      }
      const evaluation = local.prepare(
        `INSERT INTO evaluations (run_id, created_at, weights, split, map50, map50_95, result_json)
         SELECT ?, ?, ?, ?, ?, ?, ?
         WHERE NOT EXISTS (SELECT 1 FROM evaluations WHERE run_id = ? AND created_at = ? AND weights = ? AND split = ?)`,
      );
      for (const v of data.evaluations) {
        const id = to(v.run_id);
        counts.evaluations += evaluation.run(
          id,
          v.created_at,
          v.weights,
          v.split,
          v.map50,
          v.map50_95,
          v.result_json,
          id,
          v.created_at,
          v.weights,
          v.split,
        ).changes;
      }
      for (const a of data.artifacts) {
        const id = to(a.run_id);
        const kind = a.kind as ArtifactKind;
        const same = local
          .prepare('SELECT 1 FROM artifacts WHERE run_id = ? AND kind = ? AND sha256 IS ? AND epoch IS ?')
          .get(id, kind, a.sha256, a.epoch);
        if (same) continue;
        const placed = place(
          {
            shardRunId: a.run_id as number,
            kind,
            path: a.path as string,
            sha256: (a.sha256 as string | null) ?? null,
            bytes: (a.bytes as number | null) ?? null,
            epoch: (a.epoch as number | null) ?? null,
            createdAt: a.created_at as number,
          },
          id,
        );
        if (!placed) continue;
        // best and last are one file each (see addArtifact): the newer one replaces the row.
        if (kind !== 'export') local.prepare('DELETE FROM artifacts WHERE run_id = ? AND kind = ?').run(id, kind);
        local
          .prepare(
            'INSERT INTO artifacts (run_id, kind, path, sha256, bytes, epoch, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
          )
          .run(id, kind, placed.path, placed.sha256 ?? a.sha256, placed.bytes ?? a.bytes, a.epoch, a.created_at);
        counts.artifacts++;
      }
    })
    .immediate();
  return { counts, runs: merged };
}
