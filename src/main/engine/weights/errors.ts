/**
 * Errors a user can hit when opening a weights file. Messages name the file, say what is wrong
 * and what to do, so the UI and CLI can show them as they are.
 */
import { FreezeLabError } from '../../../shared/result.js';

/** The file is not in a format FreezeLab reads, or it is damaged. */
export class WeightsFormatError extends FreezeLabError {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super('bad-file', `${file}: ${detail}`);
    this.name = 'WeightsFormatError';
  }
}

/**
 * A pickled checkpoint names a Python global outside the allow-list. Nothing in the file is ever
 * executed, but a reference like `os.system` only appears in files built to run code on load.
 */
export class UnsafeCheckpointError extends WeightsFormatError {
  constructor(
    file: string,
    readonly global: string,
  ) {
    super(
      file,
      `refuses to load: the checkpoint references ${global}, which a model checkpoint never needs ` +
        `(the file may be malicious; use weights from a source you trust)`,
    );
    this.name = 'UnsafeCheckpointError';
  }
}
