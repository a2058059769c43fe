/**
 * Schema version 4: several processes on one database. Runs record their owner (the pid column
 * already holds its pid; now also its host, its start time, so a reused pid is not mistaken for it,
 * and a heartbeat) and which process queued them, and the file records who it belongs to: FreezeLab's application id in its header
 * and a UUID, so run folders of two databases sharing one data folder never collide.
 */
import { randomUUID } from 'node:crypto';
import type { Db } from '../db.js';
import { userVersion } from '../db.js';
import { FREEZELAB_APPLICATION_ID } from '../identity.js';

export const VERSION = 4;

export function updateToSchemaVersion4(db: Db): void {
  db.transaction(() => {
    if (userVersion(db) >= VERSION) return;
    db.exec(`
      ALTER TABLE runs ADD COLUMN owner_host TEXT;
      ALTER TABLE runs ADD COLUMN owner_started_at INTEGER;
      ALTER TABLE runs ADD COLUMN heartbeat_at INTEGER;
      -- The process that queued the run (it means to train it): other runners leave it alone while it lives.
      ALTER TABLE runs ADD COLUMN queued_by_json TEXT CHECK (queued_by_json IS NULL OR json_valid(queued_by_json));
      CREATE TABLE store_meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) STRICT;
    `);
    db.prepare("INSERT INTO store_meta (key, value) VALUES ('db_uuid', ?)").run(randomUUID());
    db.pragma(`application_id = ${FREEZELAB_APPLICATION_ID}`);
    db.pragma(`user_version = ${VERSION}`);
  }).immediate();
}
