/** Per-epoch metrics and per-class AP. */
import type { ClassMetrics } from '../../../shared/metrics.js';
import type { EpochRecord } from '../../../shared/runs.js';
import { FreezeLabError } from '../../../shared/result.js';
import type { Db } from '../db.js';
import { RunNotFoundError } from '../errors.js';
import { int, real, toClassAp, toEpoch, type ClassApRow, type EpochRow } from './rows.js';

/** SQL of the hot epoch queries, exported so tests can check their plans. */
export const EPOCH_SQL = {
  ofRun: 'SELECT * FROM epochs WHERE run_id = ? ORDER BY epoch',
  classAp: 'SELECT * FROM class_ap WHERE run_id = ? AND epoch = ? ORDER BY class_id',
} as const;

/**
 * Records one finished epoch and its per-class AP in one transaction, only while the run is
 * `running`. Recording an epoch again (after a resume) replaces it. Keeps `last_epoch_done`,
 * `best_fitness` and `best_epoch` (earliest epoch of the highest fitness, as YOLOv5) in step.
 */
export function recordEpoch(db: Db, runId: number, epoch: EpochRecord, classAp: readonly ClassMetrics[] = []): void {
  db.transaction(() => {
    const run = db.prepare('SELECT status FROM runs WHERE id = ?').get(runId) as { status: string } | undefined;
    if (!run) throw new RunNotFoundError(runId);
    if (run.status !== 'running') {
      throw new FreezeLabError('conflict', `Run ${runId} is ${run.status}; epochs are recorded only while it runs.`);
    }
    db.prepare(
      `INSERT INTO epochs (run_id, epoch, box_loss, obj_loss, cls_loss, lr0, lr1, lr2, precision, recall, map50,
         map50_95, fitness, seconds, images_per_second, peak_tensor_bytes, peak_rss_bytes, peak_gpu_mem_bytes)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (run_id, epoch) DO UPDATE SET
         box_loss = excluded.box_loss, obj_loss = excluded.obj_loss, cls_loss = excluded.cls_loss,
         lr0 = excluded.lr0, lr1 = excluded.lr1, lr2 = excluded.lr2, precision = excluded.precision,
         recall = excluded.recall, map50 = excluded.map50, map50_95 = excluded.map50_95,
         fitness = excluded.fitness, seconds = excluded.seconds, images_per_second = excluded.images_per_second,
         peak_tensor_bytes = excluded.peak_tensor_bytes, peak_rss_bytes = excluded.peak_rss_bytes,
         peak_gpu_mem_bytes = excluded.peak_gpu_mem_bytes`,
    ).run(
      runId,
      epoch.epoch,
      real(epoch.boxLoss),
      real(epoch.objLoss),
      real(epoch.clsLoss),
      real(epoch.lr[0]),
      real(epoch.lr[1]),
      real(epoch.lr[2]),
      real(epoch.precision),
      real(epoch.recall),
      real(epoch.map50),
      real(epoch.map50_95),
      real(epoch.fitness),
      epoch.seconds,
      real(epoch.imagesPerSecond),
      int(epoch.peakTensorBytes),
      int(epoch.peakRssBytes),
      int(epoch.peakGpuMemBytes),
    );
    db.prepare('DELETE FROM class_ap WHERE run_id = ? AND epoch = ?').run(runId, epoch.epoch);
    const insertAp = db.prepare(
      `INSERT INTO class_ap (run_id, epoch, class_id, name, images, instances, p, r, ap50, ap50_95)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const c of classAp) {
      insertAp.run(
        runId,
        epoch.epoch,
        c.classId,
        c.name,
        c.images,
        c.instances,
        c.precision,
        c.recall,
        c.ap50,
        c.ap50_95,
      );
    }
    // Recomputed from the rows rather than compared incrementally: a replaced epoch may have been the best.
    db.prepare(
      `UPDATE runs SET
         last_epoch_done = (SELECT MAX(epoch) FROM epochs WHERE run_id = runs.id),
         best_fitness = (SELECT MAX(fitness) FROM epochs WHERE run_id = runs.id),
         best_epoch = (SELECT epoch FROM epochs WHERE run_id = runs.id AND fitness IS NOT NULL
                       ORDER BY fitness DESC, epoch ASC LIMIT 1)
       WHERE id = ?`,
    ).run(runId);
  }).immediate();
}

/** All epochs of a run, in order. */
export function epochsOf(db: Db, runId: number): EpochRecord[] {
  return (db.prepare(EPOCH_SQL.ofRun).all(runId) as EpochRow[]).map(toEpoch);
}

/** Per-class AP recorded for one epoch, by class id. */
export function classApOf(db: Db, runId: number, epoch: number): ClassMetrics[] {
  return (db.prepare(EPOCH_SQL.classAp).all(runId, epoch) as ClassApRow[]).map(toClassAp);
}
