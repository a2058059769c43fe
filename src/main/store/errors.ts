/** Errors a user can hit when opening or changing the run store. */
import { FreezeLabError } from '../../shared/result.js';
import type { RunStatus } from '../../shared/runs.js';

/** The database file was written by a newer FreezeLab with a schema this build does not know. */
export class StoreNewerVersionError extends FreezeLabError {
  constructor(
    readonly file: string,
    readonly fileVersion: number,
    readonly knownVersion: number,
  ) {
    super(
      'bad-file',
      `${file} was written by a newer FreezeLab (schema ${fileVersion}, this build knows ${knownVersion}): ` +
        'update FreezeLab or use --db for another file',
    );
    this.name = 'StoreNewerVersionError';
  }
}

/** The file exists but is not a SQLite database (or is damaged beyond opening). */
export class StoreNotDatabaseError extends FreezeLabError {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(
      'bad-file',
      `${file} is not a FreezeLab database (${detail}).`,
      'Point --db (or FREEZELAB_DB) at a FreezeLab .db file, or at a path that does not exist yet to start a new one.',
    );
    this.name = 'StoreNotDatabaseError';
  }
}

/** A read-only open found a missing file or one that needs a migration first. */
export class StoreUnavailableError extends FreezeLabError {
  constructor(message: string, hint?: string) {
    super('not-found', message, hint);
    this.name = 'StoreUnavailableError';
  }
}

/** A status change the run lifecycle does not allow (e.g. completed -> running). */
export class IllegalTransitionError extends FreezeLabError {
  constructor(
    readonly runId: number,
    readonly from: RunStatus,
    readonly to: RunStatus,
  ) {
    super('conflict', `Run ${runId} is ${from} and cannot become ${to}.`);
    this.name = 'IllegalTransitionError';
  }
}

/** A run id that does not exist. */
export class RunNotFoundError extends FreezeLabError {
  constructor(readonly runId: number) {
    super('not-found', `There is no run ${runId}.`, 'List the runs to see which ids exist.');
    this.name = 'RunNotFoundError';
  }
}
