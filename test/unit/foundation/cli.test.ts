import { describe, expect, it } from 'vitest';
import { runCli, type CliIO } from '../../../src/main/cli/cli.js';
import { cliCommands } from '../../../src/main/cli/commands/index.js';

function capture(): CliIO & { stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return {
    out: (t) => void (out += t),
    err: (t) => void (err += t),
    env: {},
    stdout: () => out,
    stderr: () => err,
  };
}

describe('freezelab CLI', () => {
  it('lists every command in --help', async () => {
    const io = capture();
    expect(await runCli(['--help'], cliCommands, io)).toBe(0);
    for (const c of cliCommands) expect(io.stdout()).toContain(c.name);
  });

  it('shows a command help', async () => {
    const io = capture();
    expect(await runCli(['serve', '--help'], cliCommands, io)).toBe(0);
    expect(io.stdout()).toContain('--port');
  });

  it('exits 2 with a pointer to help on unknown commands and options', async () => {
    const a = capture();
    expect(await runCli(['frobnicate'], cliCommands, a)).toBe(2);
    expect(a.stderr()).toContain("unknown command 'frobnicate'");
    const b = capture();
    expect(await runCli(['info', '--nope'], cliCommands, b)).toBe(2);
    expect(b.stderr()).toContain("Run 'freezelab info --help'");
    const c = capture();
    expect(await runCli(['serve', '--port', 'eighty'], cliCommands, c)).toBe(2);
    expect(c.stderr()).toContain('--port takes a whole number');
    const d = capture();
    expect(await runCli(['info', '--backend', 'cuda'], cliCommands, d)).toBe(2);
    expect(d.stderr()).toContain('--backend takes one of');
  });

  it('info --json reports the backend that loaded', async () => {
    const io = capture();
    expect(await runCli(['info', '--json', '--db', '/tmp/freezelab-cli-test.db'], cliCommands, io)).toBe(0);
    const info = JSON.parse(io.stdout()) as { backend: { name: string }; databasePath: string };
    expect(['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']).toContain(info.backend.name);
    expect(info.databasePath).toBe('/tmp/freezelab-cli-test.db');
  });
});
