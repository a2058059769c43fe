import { describe, expect, it } from 'vitest';
import { runCli, type CliCommand } from '../../../src/main/cli/cli.js';
import { printable } from '../../../src/shared/format.js';

describe('control characters from users files are printed escaped', () => {
  it('escapes C0 and C1 controls, keeps newlines, tabs and the progress rewrite', () => {
    expect(printable('plain\tname\n')).toBe('plain\tname\n');
    expect(printable('cat\x1b]0;pwned\x07')).toBe('cat\\x1b]0;pwned\\x07');
    expect(printable('a\rb\x00c\x7f\x9b31m')).toBe('a\\x0db\\x00c\\x7f\\x9b31m');
    expect(printable('\r\x1b[2Kepoch 1/3')).toBe('\r\x1b[2Kepoch 1/3');
    expect(printable('a,b\r\nc,d\r\n')).toBe('a,b\r\nc,d\r\n'); // CSV line ends
    expect(printable('\x1b[2J')).toBe('\\x1b[2J');
  });

  it('every CLI command prints through it', async () => {
    const echo: CliCommand = {
      name: 'echo-name',
      summary: 'test',
      help: '',
      options: {},
      async run(_values, _positionals, io) {
        io.out('class \x1b[31mred\x1b[0m\n');
        io.err('path /tmp/\x07bell\n');
        return 0;
      },
    };
    let out = '';
    let err = '';
    const code = await runCli(['echo-name'], [echo], { out: (t) => (out += t), err: (t) => (err += t), env: {} });
    expect(code).toBe(0);
    expect(out).toBe('class \\x1b[31mred\\x1b[0m\n');
    expect(err).toBe('path /tmp/\\x07bell\n');
  });
});
