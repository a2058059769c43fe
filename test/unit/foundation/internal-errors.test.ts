import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { logInternalError, toServiceError } from '../../../src/main/service/service.js';
import { FreezeLabError } from '../../../src/shared/result.js';
import { tempDir } from '../../helpers/service.js';

describe('internal faults and user errors', () => {
  it("a user's mistake keeps its own code and message; only a fault is internal", () => {
    expect(toServiceError(new FreezeLabError('bad-file', 'x.yaml: line 3: nc is not a number.'))).toEqual({
      code: 'bad-file',
      message: 'x.yaml: line 3: nc is not a number.',
    });
    expect(toServiceError(new TypeError('undefined is not a function')).code).toBe('internal');
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
