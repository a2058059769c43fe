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

/** A SQLite file that belongs to another application: refused before anything in it is changed. */
export class StoreForeignError extends FreezeLabError {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(
      'bad-file',
      `${file} is not a FreezeLab database: ${detail}. FreezeLab left it unchanged.`,
      'Point --db (or FREEZELAB_DB) at a FreezeLab .db file, or at a path that does not exist yet to start a new one.',
    );
    this.name = 'StoreForeignError';
  }
}

/** The database path cannot be used: a folder, a read-only file or folder, a parent that is a file. */
export class StorePathError extends FreezeLabError {
  constructor(
    readonly file: string,
    detail: string,
    hint = 'Point --db (or FREEZELAB_DB) at a file FreezeLab can write, or fix the permissions.',
  ) {
    super('bad-file', `Cannot use ${file} as the FreezeLab database: ${detail}.`, hint);
    this.name = 'StorePathError';
  }
}

/** A run that another live process is training. */
export class RunOwnedError extends FreezeLabError {
  constructor(
    readonly runId: number,
    owner: string,
    hint = 'Wait for it to finish, or cancel it from the FreezeLab window, server or command that is running it.',
  ) {
    super('conflict', `Run ${runId} is running in another FreezeLab process (${owner}).`, hint);
    this.name = 'RunOwnedError';
  }
}
