/** Sweeps: a named group of runs created together (e.g. one run per freeze preset). */
import { randomUUID } from 'node:crypto';
import type { Sweep } from '../../../shared/runs.js';
import type { Db } from '../db.js';

interface SweepRow {
  id: number;
  created_at: number;
  name: string;
  config_json: string;
}

const toSweep = (r: SweepRow): Sweep => ({
  id: r.id,
  createdAt: r.created_at,
  name: r.name,
  config: JSON.parse(r.config_json) as unknown,
});

/** Creates a sweep; `uuid` names it across databases (a new one by default). */
export function createSweep(
  db: Db,
  s: { name: string; config: unknown; uuid?: string },
  now: number = Date.now(),
): Sweep {
  const info = db
    .prepare('INSERT INTO sweeps (created_at, name, config_json, uuid) VALUES (?, ?, ?, ?)')
    .run(now, s.name, JSON.stringify(s.config ?? null), s.uuid ?? randomUUID());
  return toSweep(db.prepare('SELECT * FROM sweeps WHERE id = ?').get(info.lastInsertRowid) as SweepRow);
}

/** The sweep, or undefined. */
export function getSweep(db: Db, id: number): Sweep | undefined {
  const row = db.prepare('SELECT * FROM sweeps WHERE id = ?').get(id) as SweepRow | undefined;
  return row ? toSweep(row) : undefined;
}

/** Newest first. */
export function listSweeps(db: Db): Sweep[] {
  return (db.prepare('SELECT * FROM sweeps ORDER BY created_at DESC, id DESC').all() as SweepRow[]).map(toSweep);
}

/** The id of the sweep with this UUID, if this database has it. */
export function sweepIdByUuid(db: Db, uuid: string): number | undefined {
  return (db.prepare('SELECT id FROM sweeps WHERE uuid = ?').get(uuid) as { id: number } | undefined)?.id;
}
