import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { logInternalError, toServiceError } from '../../../src/main/service/service.js';
import { FreezeLabError } from '../../../src/shared/result.js';
import { FreezeSpecError } from '../../../src/shared/freeze.js';
import { CacheBudgetError } from '../../../src/main/engine/data/cache.js';
import { DataConfigError } from '../../../src/main/engine/data/config.js';
import { NoReadableImageError } from '../../../src/main/engine/data/loader.js';
import { ImageReadError } from '../../../src/main/engine/infer/image.js';
import { ModelLoadError } from '../../../src/main/engine/model/load.js';
import { ModelYamlError } from '../../../src/main/engine/model/yaml.js';
import { BackendError } from '../../../src/main/engine/tf/backend.js';
import { OptimizerStateError } from '../../../src/main/engine/train/optimizer.js';
import { NonFiniteLossError } from '../../../src/main/engine/train/trainer.js';
import { UnsafeCheckpointError, WeightsFormatError } from '../../../src/main/engine/weights/errors.js';
import { RunNotFoundError } from '../../../src/main/store/errors.js';
import { tempDir } from '../../helpers/service.js';

describe('internal faults and user errors', () => {
  it("a user's mistake keeps its own code and message; only a fault is internal", () => {
    expect(toServiceError(new FreezeLabError('bad-file', 'x.yaml: line 3: nc is not a number.'))).toEqual({
      code: 'bad-file',
      message: 'x.yaml: line 3: nc is not a number.',
    });
    expect(toServiceError(new TypeError('undefined is not a function')).code).toBe('internal');
  });

  it('every error a user can cause reaches the user with its own message and its code', () => {
    const cases: [Error, string][] = [
      [new ModelYamlError('m.yaml: line 4: unknown module Foo'), 'bad-file'],
      [new WeightsFormatError('w.pt', 'not a zip archive'), 'bad-file'],
      [new UnsafeCheckpointError('w.pt', 'os.system'), 'bad-file'],
      [new ModelLoadError('model.0.conv.weight: shape [16,3,6,6] in the file, [32,3,6,6] in the model'), 'bad-file'],
      [new DataConfigError('not-found', 'd.yaml: the val folder images/val does not exist'), 'not-found'],
      [new FreezeSpecError("'0-x' is not a freeze spec"), 'invalid-input'],
      [new RunNotFoundError(7), 'not-found'],
      [new BackendError("TensorFlow.js backend 'tensorflow' could not be started", []), 'conflict'],
      [new NonFiniteLossError(2, 5, NaN), 'conflict'],
      [new NoReadableImageError(12), 'bad-file'],
      [new OptimizerStateError('momentum buffer model.0.conv.weight: another model'), 'bad-file'],
      [new ImageReadError('a.jpg', 'Input buffer contains unsupported image format'), 'bad-file'],
      [new CacheBudgetError(9e9, 1e9, 100, 640), 'resource'],
    ];
    for (const [error, code] of cases) {
      const e = toServiceError(error);
      expect(e, error.name).toMatchObject({ code, message: error.message });
      expect(e.hint ?? '', error.name).not.toMatch(/bug/);
    }
  });

  it('a fault is written to the data folder log with its command and stack, and its path is returned', () => {
    const dir = tempDir('freezelab-log-');
    const error = new TypeError('cannot read properties of undefined');
    const file = logInternalError(dir, 'runs.get', error);
    expect(file).toBe(path.join(dir, 'logs', 'errors.log'));
    const text = readFileSync(file!, 'utf8');
    expect(text).toMatch(
      /^\d{4}-\d\d-\d\dT[\d:.]+Z runs\.get\nTypeError: cannot read properties of undefined\n {4}at /,
    );
    logInternalError(dir, 'app.info', 'a string');
    expect(readFileSync(file!, 'utf8')).toContain('app.info\na string\n');
  });

  it('a log that cannot be written does not hide the error', () => {
    const blocked = path.join(tempDir('freezelab-log-'), 'file');
    writeFileSync(blocked, 'not a folder');
    expect(logInternalError(blocked, 'runs.get', new Error('x'))).toBeUndefined();
  });
});
