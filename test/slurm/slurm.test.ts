/**
 * Sweeps on a real Slurm: a one-node cluster on this machine (slurm-cluster.ts), the FreezeLab CLI
 * of this checkout (bin/freezelab.js, so dist/main must be built) as what the tasks run, and a
 * tiny generated dataset at img 64, 1 epoch. Skips, saying why, when Slurm is missing and cannot
 * be installed (not root); under CI=true it must run.
 */
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImportResult, SubmitResult } from '../../src/shared/commands/cluster.js';
import { makeTinyDataset, type TinyDataset } from '../helpers/tiny-dataset.js';
import { tempDir } from '../helpers/service.js';
import { slurmUnavailable, startSlurm, type SlurmCluster } from './slurm-cluster.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(root, 'bin', 'freezelab.js');
const built = fs.existsSync(path.join(root, 'dist', 'main', 'cli', 'main.js'));
const unavailable = slurmUnavailable() ?? (built ? null : 'dist/main is not built (npm run build:main)');
const CI = process.env.CI === 'true';

if (unavailable && CI) {
  describe('Slurm', () => {
    it('runs under CI', () => {
      throw new Error(`The Slurm test must run under CI, but ${unavailable}.`);
    });
  });
}

interface Exit {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

let cluster: SlurmCluster;
let home: string;
let data: TinyDataset;

/** The test's own --home decides where the database is, whatever the caller's environment says. */
function withoutDbOverrides(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { FREEZELAB_DB: _db, FREEZELAB_HOME: _home, ...rest } = env;
  return rest;
}

function cli(...args: string[]): Promise<Exit> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args, '--home', home], {
      env: withoutDbOverrides(cluster.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** squeue's lines for the job (empty once every task has ended). */
const queued = (jobId: string): string => cluster.exec('squeue', ['-h', '-r', '-j', jobId, '-o', '%i %T']).trim();

async function waitUntil(
  what: string,
  check: () => boolean,
  timeoutMs: number,
  extra: () => string = () => '',
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (check()) return;
    await sleep(1000);
  }
  throw new Error(`${what} did not happen within ${timeoutMs / 1000} s. ${extra()}`);
}

const logsOf = (dir: string) => () =>
  fs.existsSync(path.join(dir, 'logs'))
    ? fs
        .readdirSync(path.join(dir, 'logs'))
        .map((f) => `--- ${f}\n${fs.readFileSync(path.join(dir, 'logs', f), 'utf8').slice(-2000)}`)
        .join('\n')
    : 'no logs';

/** Every row of every table, to show that an import changed nothing. */
function dump(file: string): string {
  const db = new Database(file, { readonly: true });
  try {
    const tables = (
      db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").all() as { name: string }[]
    )
      .map((t) => t.name)
      .filter((t) => !t.startsWith('sqlite_'));
    return JSON.stringify(tables.map((t) => [t, db.prepare(`SELECT * FROM ${t} ORDER BY rowid`).all()]));
  } finally {
    db.close();
  }
}

const sweepArgs = (dataset: TinyDataset, dir: string, freezes: string, ...more: string[]) => [
  'sweep',
  '--slurm',
  '--model',
  'n',
  '--freeze-untrained',
  '--freeze',
  freezes,
  '--data',
  dataset.yaml,
  '--img',
  '64',
  '--batch',
  '2',
  '--epochs',
  '1',
  '--cpus-per-run',
  '1',
  '--time',
  '00:20:00',
  '--dir',
  dir,
  '--json',
  ...more,
];

describe.skipIf(unavailable !== null)(`Slurm${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  beforeAll(async () => {
    cluster = await startSlurm();
    home = tempDir('freezelab-slurm-home-');
    data = await makeTinyDataset({ train: 4, val: 2, size: 64 });
  }, 300_000);
  afterAll(async () => {
    await cluster?.stop();
    if (home) fs.rmSync(home, { recursive: true, force: true });
    if (data) fs.rmSync(data.root, { recursive: true, force: true });
  });

  it('--dry-run prints the array script and submits nothing', async () => {
    const dir = path.join(tempDir('freezelab-sweep-'), 'dry');
    const r = await cli(...sweepArgs(data, dir, 'none,backbone', '--dry-run').filter((a) => a !== '--json'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('#SBATCH --array=0-1');
    expect(r.stdout).toContain('#SBATCH --time=00:20:00');
    expect(r.stdout).toContain('train --config "$SWEEP_DIR/tasks/$TASK/config.json"');
    expect(fs.existsSync(dir)).toBe(false);
    expect(cluster.exec('squeue', ['-h']).trim()).toBe('');
  });

  it('a 2-preset sweep goes through sbatch; import brings 2 completed runs with epochs and checkpoints, twice changes nothing', async () => {
    const dir = path.join(tempDir('freezelab-sweep-'), 'presets');
    const submitted = await cli(...sweepArgs(data, dir, 'none,backbone'));
    expect(submitted.code, submitted.stderr).toBe(0);
    const s = JSON.parse(submitted.stdout) as SubmitResult;
    expect(s).toMatchObject({ dir, runIds: [expect.any(Number), expect.any(Number)] });
    expect(s.jobId).toMatch(/^\d+$/);
    const jobId = s.jobId!;

    // In the local database at once: queued on Slurm with the job id.
    const listed = await cli('runs', '--json');
    expect(listed.code, listed.stderr).toBe(0);
    const runs = JSON.parse(listed.stdout) as {
      run: { id: number; status: string; statusReason: string };
      cluster?: { jobId: string; arrayTask: number };
    }[];
    for (const [task, id] of s.runIds.entries()) {
      const listedRun = runs.find((r) => r.run.id === id);
      expect(listedRun?.run.status).toMatch(/queued|running|completed/);
      expect(listedRun?.run.statusReason).toContain(`job ${jobId}_${task}`);
      expect(listedRun?.cluster).toMatchObject({ jobId, arrayTask: task });
    }
    // The table says where each run is: Slurm's job_task and its state.
    const table = await cli('runs');
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/\bwhere\b/);
    for (const task of s.runIds.keys()) expect(table.stdout).toContain(`slurm ${jobId}_${task}`);

    // Import while the tasks run: safe, brings what is there.
    await waitUntil('a task running', () => /RUNNING/.test(queued(jobId)) || queued(jobId) === '', 120_000);
    const early = await cli('import', dir, '--json');
    expect(early.code, early.stderr).toBe(0);

    await waitUntil('both tasks ended', () => queued(jobId) === '', 300_000, logsOf(dir));
    const first = await cli('import', dir, '--json');
    expect(first.code, first.stderr).toBe(0);
    const imported = JSON.parse(first.stdout) as ImportResult;
    expect(imported.shards).toHaveLength(2);
    expect(imported.runs.map((r) => r.runId).sort()).toEqual([...s.runIds].sort());
    for (const r of imported.runs) {
      expect(r, `${JSON.stringify(r)}\n${logsOf(dir)()}`).toMatchObject({
        status: 'completed',
        epochs: 1,
        checkpoints: 2,
      });
      expect(r.cluster).toMatchObject({ jobId, state: 'completed' });
    }
    // The checkpoints were brought home into this database's run folders.
    const detail = await cli('runs', '--json');
    expect(detail.code).toBe(0);

    const before = dump(path.join(home, 'freezelab.db'));
    const again = await cli('import', dir, '--json');
    expect(again.code, again.stderr).toBe(0);
    const second = JSON.parse(again.stdout) as ImportResult;
    expect(
      Object.values(second.counts).every((n) => n === 0),
      JSON.stringify(second.counts),
    ).toBe(true);
    expect(dump(path.join(home, 'freezelab.db'))).toBe(before);

    // Imported runs compare like local ones.
    const compared = await cli('compare', ...s.runIds.map(String), '--json');
    expect(compared.code, compared.stderr).toBe(0);
    expect((JSON.parse(compared.stdout) as { rows: unknown[] }).rows).toHaveLength(2);
  });

  it("a task whose dataset is gone fails, with Slurm's reason and FreezeLab's", async () => {
    const doomed = await makeTinyDataset({ train: 2, val: 1, size: 64, seed: 3 });
    const dir = path.join(tempDir('freezelab-sweep-'), 'doomed');
    // Held, so the dataset can go before the task starts.
    const submitted = await cli(...sweepArgs(doomed, dir, 'none', '--hold'));
    expect(submitted.code, submitted.stderr).toBe(0);
    const s = JSON.parse(submitted.stdout) as SubmitResult;
    fs.rmSync(doomed.root, { recursive: true, force: true });
    cluster.exec('scontrol', ['release', s.jobId!]);
    await waitUntil('the task ended', () => queued(s.jobId!) === '', 180_000, logsOf(dir));

    const r = await cli('import', dir, '--json');
    expect(r.code, r.stderr).toBe(0);
    const imported = JSON.parse(r.stdout) as ImportResult;
    expect(imported.runs).toHaveLength(1);
    const run = imported.runs[0]!;
    expect(run.status, JSON.stringify(run)).toBe('failed');
    expect(run.cluster).toMatchObject({ jobId: s.jobId, state: 'failed', exitCode: '1:0' });
    expect(run.reason).toContain('Slurm: FAILED (NonZeroExitCode), exit code 1:0.');
    expect(run.reason).toMatch(/FreezeLab: .*(dataset|data|not found|no such|does not exist)/i);
    expect(run.reason).toContain(doomed.root);
  });

  it('cancel of a queued cluster run calls scancel', async () => {
    const dir = path.join(tempDir('freezelab-sweep-'), 'cancelled');
    const submitted = await cli(...sweepArgs(data, dir, 'none', '--hold'));
    expect(submitted.code, submitted.stderr).toBe(0);
    const s = JSON.parse(submitted.stdout) as SubmitResult;
    // freezelab cancel: the service's runs.cancel, as the app's Cancel button calls it.
    const r = await cli('cancel', String(s.runIds[0]!), '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([{ runId: s.runIds[0], status: 'cancelled' }]);
    const state = cluster.exec('scontrol', ['-o', 'show', 'job', s.jobId!]);
    expect(state).toContain('JobState=CANCELLED');
    const listed = await cli('runs', '--json');
    const run = (JSON.parse(listed.stdout) as { run: { id: number; status: string } }[]).find(
      (x) => x.run.id === s.runIds[0],
    );
    expect(run?.run.status).toBe('cancelled');
  });
});
