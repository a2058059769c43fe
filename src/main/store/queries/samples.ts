/** Resource samples (memory, GPU) taken during a run. */
import type { ResourceSample } from '../../../shared/runs.js';
import type { Db } from '../db.js';
import { int, real, toSample, type SampleRow } from './rows.js';

/** SQL of the hot sample queries, exported so tests can check their plans. */
export const SAMPLE_SQL = {
  range: 'SELECT COUNT(*) AS n, MIN(t_ms) AS t0, MAX(t_ms) AS t1 FROM samples WHERE run_id = ?',
  all: `SELECT t_ms, tensor_bytes, rss_bytes, gpu_mem_used_bytes, gpu_util, process_gpu_mem_bytes
        FROM samples WHERE run_id = ? ORDER BY t_ms`,
  // Bucket b holds t in [t0 + b*span/N, t0 + (b+1)*span/N). better-sqlite3 binds JS numbers as
  // REAL, so the CASTs are what make this an integer division.
  buckets: `SELECT MIN(t_ms) AS t_ms, MAX(tensor_bytes) AS tensor_bytes, MAX(rss_bytes) AS rss_bytes,
          MAX(gpu_mem_used_bytes) AS gpu_mem_used_bytes, MAX(gpu_util) AS gpu_util,
          MAX(process_gpu_mem_bytes) AS process_gpu_mem_bytes
        FROM samples WHERE run_id = ?
        GROUP BY ((t_ms - CAST(? AS INTEGER)) * CAST(? AS INTEGER)) / CAST(? AS INTEGER) ORDER BY 1`,
} as const;

/** Inserts samples in one transaction (one statement reused). Returns how many were written. */
export function addSamples(db: Db, runId: number, samples: readonly ResourceSample[]): number {
  if (samples.length === 0) return 0;
  const insert = db.prepare(
    `INSERT INTO samples (run_id, t_ms, tensor_bytes, rss_bytes, gpu_mem_used_bytes, gpu_util, process_gpu_mem_bytes)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  db.transaction(() => {
    for (const s of samples) {
      insert.run(
        runId,
        Math.round(s.tMs),
        int(s.tensorBytes),
        int(s.rssBytes),
        int(s.gpuMemUsedBytes),
        real(s.gpuUtil),
        int(s.processGpuMemBytes),
      );
    }
  }).immediate();
  return samples.length;
}

/**
 * A run's samples in time order, at most `maxPoints` of them for charts. When there are more, the
 * time span is cut into `maxPoints` equal buckets and each bucket becomes one point at its first
 * time holding the maximum of every column, so peaks survive downsampling.
 */
export function samplesOf(db: Db, runId: number, opts: { maxPoints?: number } = {}): ResourceSample[] {
  const maxPoints = Math.max(1, Math.trunc(opts.maxPoints ?? 500));
  return db.transaction(() => {
    const range = db.prepare(SAMPLE_SQL.range).get(runId) as { n: number; t0: number | null; t1: number | null };
    if (range.n <= maxPoints || range.t0 === null || range.t1 === null) {
      return (db.prepare(SAMPLE_SQL.all).all(runId) as SampleRow[]).map(toSample);
    }
    const span = range.t1 - range.t0 + 1;
    return (db.prepare(SAMPLE_SQL.buckets).all(runId, range.t0, maxPoints, span) as SampleRow[]).map(toSample);
  })();
}
