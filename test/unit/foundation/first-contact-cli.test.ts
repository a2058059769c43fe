/**
 * Issue 16 on the command line: epochs counted from 1 in exports and JSON, one-line failures,
 * the port fallback, arch rows that fit a terminal, --home, and the confirmation for freezing a
 * model that has no trained weights.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli, type CliCommand, type CliIO } from '../../../src/main/cli/cli.js';
import { cliCommands } from '../../../src/main/cli/commands/index.js';
import { serviceFor } from '../../../src/main/cli/service-factory.js';
import { initBackend } from '../../../src/main/engine/tf/backend.js';
import { resolveDataPaths } from '../../../src/main/paths.js';
import { createService } from '../../../src/main/service/service.js';
import { addArtifact, openStore } from '../../../src/main/store/index.js';
import type { RunDetail, RunSummary } from '../../../src/shared/runs.js';
import { seedRuns } from '../../helpers/seeded-runs.js';
import { tempDir } from '../../helpers/service.js';
import { makeTinyDataset } from '../../helpers/tiny-dataset.js';

interface Captured extends CliIO {
  stdout(): string;
  stderr(): string;
}

function capture(env: NodeJS.ProcessEnv = {}, extra: Partial<CliIO> = {}): Captured {
  let out = '';
  let err = '';
  return {
    out: (t) => void (out += t),
    err: (t) => void (err += t),
    env,
    ...extra,
    stdout: () => out,
    stderr: () => err,
  };
}

const cli = (io: CliIO, ...argv: string[]) => runCli(argv, cliCommands, io);

const dirs: string[] = [];
const dir = (prefix: string): string => {
  const d = tempDir(prefix);
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

// --home and the default paths read these; the tests name their folders themselves.
beforeAll(() => {
  vi.stubEnv('FREEZELAB_DB', undefined);
  vi.stubEnv('FREEZELAB_HOME', undefined);
});
afterAll(() => vi.unstubAllEnvs());

describe('epochs counted from 1 in exports and the JSON of runs', () => {
  // Seeded: two completed runs of 3 epochs whose best is stored as epoch index 1, and a run
  // cancelled after its first epoch (stored index 0).
  const home = dir('freezelab-home-');
  const runs = seedRuns(home);
  const [completed, , cancelled] = runs;

  beforeAll(() => {
    // Checkpoints as the worker records them: best.pt of the best epoch, last.pt of the last one.
    const db = openStore(path.join(home, 'freezelab.db'));
    try {
      const runDir = path.join(home, 'runs', String(completed!.id));
      mkdirSync(runDir, { recursive: true });
      for (const [kind, epoch] of [
        ['best', 1],
        ['last', 2],
      ] as const) {
        const file = path.join(runDir, `${kind}.safetensors`);
        writeFileSync(file, kind);
        addArtifact(db, completed!.id, { kind, path: file, epoch });
      }
    } finally {
      db.close();
    }
  });

  it('export writes epochs.csv and run.json from epoch 1: epochs, best epoch, checkpoints', async () => {
    const out = path.join(dir('freezelab-export-'), 'run');
    const io = capture();
    expect(await cli(io, 'export', String(completed!.id), '--home', home, '--out', out)).toBe(0);
    expect(io.stderr()).toBe('');

    const csv = readFileSync(path.join(out, 'epochs.csv'), 'utf8').trim().split('\n');
    expect(csv[0]!.split(',')[0]).toBe('epoch');
    expect(csv.slice(1).map((line) => line.split(',')[0])).toEqual(['1', '2', '3']);

    const json = JSON.parse(readFileSync(path.join(out, 'run.json'), 'utf8')) as RunDetail;
    expect(json.epochs.map((e) => e.epoch)).toEqual([1, 2, 3]);
    // The best mAP50-95 (0.4) is the second epoch, in the CSV rows and the JSON alike.
    expect(json.epochs.find((e) => e.epoch === json.run.bestEpoch)?.map50_95).toBe(0.4);
    expect(csv[2]).toContain(',0.4,');
    // The headline memory figure: GPU memory where measured, else the peak in-step tensor bytes.
    const head = csv[0]!.split(',');
    for (const line of csv.slice(1)) {
      const cells = line.split(',');
      const at = (name: string) => cells[head.indexOf(name)];
      expect(at('memory_bytes')).toBe(at('peak_gpu_mem_bytes') || at('peak_tensor_bytes'));
      expect(at('memory_kind')).toBe(at('peak_gpu_mem_bytes') ? 'gpu' : at('peak_tensor_bytes') ? 'tensor' : '');
    }
    expect(json.run).toMatchObject({ bestEpoch: 2, lastEpochDone: 3, epochs: 3 });
    expect(Object.fromEntries(json.artifacts.map((a) => [a.kind, a.epoch]))).toEqual({ best: 2, last: 3 });
    expect(readFileSync(path.join(out, 'best.safetensors'), 'utf8')).toBe('best');
  });

  it('export never overwrites: a non-empty folder is refused unless --force; system folders are refused', async () => {
    const out = path.join(dir('freezelab-export-'), 'again');
    expect(await cli(capture(), 'export', String(completed!.id), '--home', home, '--out', out)).toBe(0);
    const before = readFileSync(path.join(out, 'run.json'), 'utf8');
    writeFileSync(path.join(out, 'notes.txt'), 'mine');
    const again = capture();
    expect(await cli(again, 'export', String(completed!.id), '--home', home, '--out', out)).toBe(1);
    expect(again.stderr()).toContain(`${out} already exists and is not empty`);
    expect(readFileSync(path.join(out, 'notes.txt'), 'utf8')).toBe('mine');
    const forced = capture();
    expect(await cli(forced, 'export', String(completed!.id), '--home', home, '--out', out, '--force')).toBe(0);
    expect(readFileSync(path.join(out, 'run.json'), 'utf8')).toBe(before);
    expect(readFileSync(path.join(out, 'notes.txt'), 'utf8')).toBe('mine');
    if (process.platform === 'linux') {
      const proc = capture();
      expect(await cli(proc, 'export', String(completed!.id), '--home', home, '--out', '/proc/self/x')).toBe(1);
      expect(proc.stderr()).toContain('/proc/self/x: ');
      expect(proc.stderr()).toContain('is a system folder');
    }
  });

  it('the database keeps counting from 0', async () => {
    const service = serviceFor('cli', { home }, { runJobs: false });
    const detail = await service.call('runs.get', { id: completed!.id });
    await service.close();
    if (!detail.ok) throw new Error(detail.error.message);
    expect(detail.value.epochs.map((e) => e.epoch)).toEqual([0, 1, 2]);
    expect(detail.value.run).toMatchObject({ bestEpoch: 1, lastEpochDone: 2 });
    expect(detail.value.artifacts.map((a) => a.epoch)).toEqual([1, 2]);
  });

  it('runs --json counts from 1, as its table does', async () => {
    const json = capture();
    expect(await cli(json, 'runs', '--home', home, '--json')).toBe(0);
    const rows = JSON.parse(json.stdout()) as RunSummary[];
    const byId = new Map(rows.map((r) => [r.run.id, r]));
    expect(byId.get(completed!.id)).toMatchObject({
      run: { lastEpochDone: 3, bestEpoch: 2, epochs: 3 },
      last: { epoch: 3 },
      best: { epoch: 2, map50_95: 0.4 },
    });
    expect(byId.get(cancelled!.id)).toMatchObject({ run: { lastEpochDone: 1, bestEpoch: 1 }, best: { epoch: 1 } });

    const table = capture();
    expect(await cli(table, 'runs', '--home', home)).toBe(0);
    expect(table.stdout()).toMatch(new RegExp(`^ *${completed!.id} +completed .* 3/3 `, 'm'));
    expect(table.stdout()).toMatch(new RegExp(`^ *${cancelled!.id} +cancelled .* 1/3 `, 'm'));
  });
});

describe('--home', () => {
  it('moves the database and the run folders; --db moves only the database', () => {
    const home = dir('freezelab-home-');
    expect(serviceFor('cli', { home }, { runJobs: false }).context.paths).toEqual({
      dataDir: home,
      databasePath: path.join(home, 'freezelab.db'),
      runsDir: path.join(home, 'runs'),
    });
    const db = path.join(dir('freezelab-db-'), 'other.db');
    expect(serviceFor('cli', { home, db }, { runJobs: false }).context.paths).toEqual({
      dataDir: home,
      databasePath: db,
      runsDir: path.join(home, 'runs'),
    });
  });

  it('reads the runs recorded in that folder, and no others', async () => {
    const home = dir('freezelab-home-');
    const seeded = seedRuns(home);
    const io = capture();
    expect(await cli(io, 'runs', '--home', home, '--json')).toBe(0);
    expect((JSON.parse(io.stdout()) as RunSummary[]).map((r) => r.run.name).sort()).toEqual(
      seeded.map((r) => r.name).sort(),
    );
    const empty = capture();
    expect(await cli(empty, 'runs', '--home', dir('freezelab-home-'))).toBe(0);
    expect(empty.stdout()).toContain('No runs yet');
  });
});

/** Holds a port on 127.0.0.1; undefined when something else holds it already (as good for the test). */
function hold(port: number): Promise<Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) =>
      error.code === 'EADDRINUSE' ? resolve(undefined) : reject(error),
    );
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

describe('serve', () => {
  let held: Server | undefined;
  afterEach(() => {
    held?.close();
    held = undefined;
  });

  it('takes a free port when the default 5199 is taken, and says which', async () => {
    held = await hold(5199);
    let stop: () => void = () => undefined;
    let out = '';
    const io = capture(
      {},
      {
        stop: new Promise<void>((resolve) => (stop = resolve)),
        // Stop once the URL is printed: everything this test checks is written by then.
        out: (t) => {
          out += t;
          if (out.includes('serving on')) stop();
        },
      },
    );
    expect(await cli(io, 'serve', '--home', dir('freezelab-serve-'))).toBe(0);
    const port = Number(new URL(/serving on (\S+)/.exec(out)![1]!).port);
    expect(port).not.toBe(5199);
    expect(out).toBe(
      `Port 5199 is in use, so FreezeLab took the free port ${port}.\n` +
        `FreezeLab is serving on ${/serving on (\S+)/.exec(out)![1]}\n`,
    );
    expect(io.stderr()).toBe('');
  });

  it('refuses a taken port the user chose in one line, with the stack only under FREEZELAB_DEBUG', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as { port: number }).port;
    try {
      const plain = capture();
      expect(await cli(plain, 'serve', '--port', String(port), '--home', dir('freezelab-serve-'))).toBe(1);
      expect(plain.stderr()).toBe(
        `freezelab serve: Port ${port} on 127.0.0.1 is in use. Pass --port with another number, or --port 0 for any free port.\n`,
      );
      expect(plain.stdout()).toBe('');

      const debug = capture({ FREEZELAB_DEBUG: '1' });
      expect(await cli(debug, 'serve', '--port', String(port), '--home', dir('freezelab-serve-'))).toBe(1);
      const [first, ...stack] = debug.stderr().trimEnd().split('\n');
      expect(first).toBe(plain.stderr().trimEnd());
      expect(stack.some((line) => /^\s+at /.test(line))).toBe(true);
    } finally {
      busy.close();
    }
  });
});

describe('failures are one line', () => {
  // An unexpected error (a bug, not a user's mistake) from any command, here one made to throw.
  const broken: CliCommand = {
    name: 'broken',
    summary: 'throws',
    help: '',
    options: {},
    run: () => Promise.reject(new Error('the disk vanished\nmore detail on a second line')),
  };

  it('prints the first line and how to see more, and the stack with FREEZELAB_DEBUG=1', async () => {
    const plain = capture();
    expect(await runCli(['broken'], [broken], plain)).toBe(1);
    expect(plain.stderr()).toBe(
      'freezelab broken: the disk vanished\n(set FREEZELAB_DEBUG=1 to see where it failed)\n',
    );
    const debug = capture({ FREEZELAB_DEBUG: '1' });
    expect(await runCli(['broken'], [broken], debug)).toBe(1);
    const lines = debug.stderr().split('\n');
    expect(lines[0]).toBe('freezelab broken: the disk vanished');
    expect(lines.some((line) => /^\s+at /.test(line))).toBe(true);
    expect(debug.stderr()).not.toContain('set FREEZELAB_DEBUG');
  });
});

describe('arch', () => {
  it('keeps every row of the widest built-in model within 100 characters', async () => {
    for (const model of ['n', 'x']) {
      const io = capture();
      expect(await cli(io, 'arch', '--model', model, '--freeze', 'backbone', '--home', dir('freezelab-arch-'))).toBe(0);
      const lines = io.stdout().split('\n');
      expect(lines.length).toBeGreaterThan(25);
      expect(lines.filter((line) => line.length > 100)).toEqual([]);
      // Detect's anchor table is summarised rather than printed in full.
      expect(io.stdout()).toMatch(/Detect +\[80, anchors 3x3, /);
    }
  });
});

describe('train and sweep help', () => {
  it('sweep --help lists --bn-frozen once, in its list form', async () => {
    const io = capture();
    expect(await cli(io, 'sweep', '--help')).toBe(0);
    const lines = io
      .stdout()
      .split('\n')
      .filter((line) => line.trimStart().startsWith('--bn-frozen'));
    expect(lines).toEqual(['  --bn-frozen LIST update (YOLOv5, default), freeze, or both (one run per policy)']);
  });

  it('train and sweep --help document --freeze-untrained', async () => {
    for (const command of ['train', 'sweep']) {
      const io = capture();
      expect(await cli(io, command, '--help')).toBe(0);
      expect(io.stdout()).toMatch(/^ {2}--freeze-untrained\n +with --model and no --weights, freeze anyway/m);
    }
  });
});

describe('freezing a model without trained weights', () => {
  const refusal = (spec: string, model: string) =>
    `freezelab train: --freeze ${spec} without --weights keeps modules of ${model} frozen at their random ` +
    'initial values. Give --weights, use --freeze none, or pass --freeze-untrained to do it anyway.\n';

  it('train refuses it in one line, before touching the database', async () => {
    const home = dir('freezelab-untrained-');
    const io = capture();
    expect(await cli(io, 'train', '--model', 'n', '--data', 'd.yaml', '--freeze', 'backbone', '--home', home)).toBe(2);
    expect(io.stderr()).toBe(refusal('backbone', 'yolov5n'));
    expect(existsSync(path.join(home, 'freezelab.db'))).toBe(false);

    const yaml = capture();
    expect(
      await cli(yaml, 'train', '--model', 'my-net.yaml', '--data', 'd.yaml', '--freeze', '3', '--home', home),
    ).toBe(2);
    expect(yaml.stderr()).toBe(refusal('3', 'my-net.yaml'));
  });

  it('sweep refuses it when any spec freezes something, and names that spec', async () => {
    const io = capture();
    const home = dir('freezelab-untrained-');
    const code = await cli(
      io,
      'sweep',
      '--models',
      's,n',
      '--data',
      'd.yaml',
      '--freeze',
      'none,0,all-but-detect',
      '--home',
      home,
    );
    expect(code).toBe(2);
    expect(io.stderr()).toBe(refusal('all-but-detect', 'yolov5s').replace('freezelab train', 'freezelab sweep'));
  });

  // Past the check, the service is asked and answers about the missing dataset: proof the CLI let it through.
  const passes = async (...argv: string[]) => {
    const io = capture();
    const code = await cli(io, ...argv, '--data', path.join(dir('freezelab-nodata-'), 'missing.yaml'));
    expect(io.stderr(), argv.join(' ')).not.toContain('--freeze-untrained');
    expect(code, argv.join(' ')).toBe(1);
    expect(io.stderr(), argv.join(' ')).toMatch(/missing\.yaml/);
  };

  it('lets it through with --freeze-untrained, with weights, or when nothing is frozen', async () => {
    const home = dir('freezelab-untrained-');
    await passes('train', '--model', 'n', '--freeze', 'backbone', '--freeze-untrained', '--home', home);
    await passes('sweep', '--model', 'n', '--freeze', 'none,backbone', '--freeze-untrained', '--home', home);
    await passes('train', '--model', 'n', '--weights', 'yolov5n.pt', '--freeze', 'backbone', '--home', home);
    await passes('train', '--model', 'n', '--freeze', 'none', '--home', home);
    await passes('sweep', '--models', 'n,s', '--freeze', 'none;0', '--home', home);
  });

  it('the service itself queues it (the launcher asks for its own confirmation)', async () => {
    const data = await makeTinyDataset({ train: 1, val: 1, root: dir('freezelab-tiny-') });
    const service = createService({
      host: 'cli',
      runJobs: false,
      paths: resolveDataPaths({ dataDir: dir('freezelab-untrained-') }, {}),
      loadBackend: () => initBackend(),
    });
    try {
      const started = await service.call('runs.start', { model: 'n', data: data.yaml, freeze: 'backbone' });
      if (!started.ok) throw new Error(started.error.message);
      const detail = await service.call('runs.get', { id: started.value.runId });
      if (!detail.ok) throw new Error(detail.error.message);
      expect(detail.value.run).toMatchObject({ status: 'queued', freezeSpec: 'backbone', weightsPath: null });
    } finally {
      await service.close();
    }
  });
});
