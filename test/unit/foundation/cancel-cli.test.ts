import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, type CliIO } from '../../../src/main/cli/cli.js';
import { cliCommands } from '../../../src/main/cli/commands/index.js';
import { createRun, getRun, openStore, setRunStatus } from '../../../src/main/store/index.js';
import { newRun } from '../store/fixtures.js';
import { tempDir } from '../../helpers/service.js';

function capture(): CliIO & { stdout(): string; stderr(): string } {
  let out = '';
  let err = '';
  return { out: (t) => void (out += t), err: (t) => void (err += t), env: {}, stdout: () => out, stderr: () => err };
}

describe('freezelab cancel', () => {
  it('cancels a queued run, and says where a run training in another process is cancelled', async () => {
    const home = tempDir();
    const db = openStore(path.join(home, 'freezelab.db'));
    const queued = createRun(db, newRun({ name: 'waiting' }));
    const elsewhere = createRun(db, newRun({ name: 'training elsewhere' }));
    // Owned by a live process that is not this one (this test's parent: alive, not us).
    setRunStatus(db, elsewhere.id, 'running', { pid: process.ppid });
    db.close();

    const io = capture();
    const code = await runCli(['cancel', String(queued.id), String(elsewhere.id), '--home', home], cliCommands, io);
    expect(code).toBe(1);
    expect(io.stdout()).toBe(`run ${queued.id}: cancelled\n`);
    expect(io.stderr()).toContain(`Run ${elsewhere.id} is running in another FreezeLab process`);
    expect(io.stderr()).toContain('Cancel it from the FreezeLab window or server that is running it.');

    const after = openStore(path.join(home, 'freezelab.db'));
    expect(getRun(after, queued.id).run.status).toBe('cancelled');
    expect(getRun(after, elsewhere.id).run.status).toBe('running');
    after.close();

    const usage = capture();
    expect(await runCli(['cancel', '--home', home], cliCommands, usage)).toBe(2);
    expect(usage.stderr()).toContain('give one or more run ids');
  });
});
