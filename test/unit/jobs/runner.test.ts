import Database from 'better-sqlite3';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveDataPaths } from '../../../src/main/paths.js';
import { createService, type Service } from '../../../src/main/service/service.js';
import { initBackend } from '../../../src/main/engine/tf/backend.js';
import type { EventMessage, RunProgress } from '../../../src/shared/contract.js';
import type { RunStatus } from '../../../src/shared/runs.js';
import { tempDir } from '../../helpers/service.js';
import { makeTinyDataset, type TinyDataset } from '../../helpers/tiny-dataset.js';

/** Training runs in real worker processes (child processes running the TypeScript sources). */
let data: TinyDataset;
let service: Service;
let dbPath: string;
const events: EventMessage[] = [];

beforeAll(async () => {
  data = await makeTinyDataset({ train: 8, val: 4, size: 64 });
  const paths = resolveDataPaths({ dataDir: tempDir('freezelab-jobs-') }, {});
  dbPath = paths.databasePath;
  service = createService({ host: 'cli', paths, loadBackend: () => initBackend() });
  service.events.subscribe((m) => events.push(m));
});
afterAll(() => service?.close());

const base = () => ({ model: 'n', data: data.yaml, imgSize: 64, batch: 4, seed: 1 });

async function call<T>(name: string, input: unknown): Promise<T> {
  const result = await service.dispatch(name, input);
  if (!result.ok) throw new Error(`${name}: ${result.error.message}`);
  return result.value as T;
}

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, ms = 240_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Progress events of a run seen so far. */
const progressOf = (runId: number): RunProgress[] =>
  events.flatMap((m) =>
    m.event === 'run.progress' && (m.payload as RunProgress).runId === runId ? [m.payload as RunProgress] : [],
  );

const statusOf = async (id: number): Promise<RunStatus> =>
  (await call<{ run: { status: RunStatus } }>('runs.get', { id })).run.status;

describe('job runner', () => {
  it('a three-preset sweep ends with three completed runs and a comparison with its Pareto frontier', async () => {
    const { runIds } = await call<{ sweepId: number; runIds: number[] }>('sweeps.start', {
      ...base(),
      epochs: 1,
      freezes: ['none', 'backbone', 'all-but-detect'],
    });
    expect(runIds).toHaveLength(3);
    for (const id of runIds) {
      await until(`run ${id} to finish`, async () => ((await statusOf(id)) === 'completed' ? true : undefined));
    }
    const comparison = await call<{
      rows: {
        runId: number;
        bestMap50_95: number | null;
        peakMemoryBytes: number | null;
        secondsPerEpoch: number | null;
        trainableParams: number | null;
        freezeLabel: string;
      }[];
      memoryFrontier: number[];
      timeFrontier: number[];
      recommendation: { line: string };
      csv: string;
    }>('runs.compare', { ids: runIds });
    expect(comparison.rows.map((r) => r.freezeLabel)).toEqual(['none', 'backbone', 'all but Detect']);
    // yolov5n with nc=2: Detect has (64 + 128 + 256) * 21 + 3 * 21 = 9,471 parameters instead of 115,005.
    expect(comparison.rows.map((r) => r.trainableParams)).toEqual([1_766_623, 720_255, 9_471]);
    for (const r of comparison.rows) {
      expect(r.peakMemoryBytes).toBeGreaterThan(0);
      expect(r.secondsPerEpoch).toBeGreaterThan(0);
      expect(r.bestMap50_95).not.toBeNull();
    }
    // The frontier, checked from the rows: no member is dominated, every other run is.
    for (const [frontier, x] of [
      [comparison.memoryFrontier, (r: (typeof comparison.rows)[number]) => r.peakMemoryBytes!],
      [comparison.timeFrontier, (r: (typeof comparison.rows)[number]) => r.secondsPerEpoch!],
    ] as const) {
      const dominated = (r: (typeof comparison.rows)[number]) =>
        comparison.rows.some(
          (q) =>
            q !== r &&
            x(q) <= x(r) &&
            q.bestMap50_95! >= r.bestMap50_95! &&
            (x(q) < x(r) || q.bestMap50_95! > r.bestMap50_95!),
        );
      for (const r of comparison.rows) expect(frontier.includes(r.runId)).toBe(!dominated(r));
      const xs = frontier.map((id) => x(comparison.rows.find((r) => r.runId === id)!));
      expect(xs).toEqual([...xs].sort((a, b) => a - b));
    }
    expect(comparison.recommendation.line.length).toBeGreaterThan(10);
    // Each worker recorded what AutoAnchor found with its run (the tiny set's labels fit yolov5n's anchors).
    for (const id of runIds) {
      const detail = await call<{ notes: { level: string; message: string }[] }>('runs.get', { id });
      expect(detail.notes).toContainEqual(
        expect.objectContaining({
          level: 'info',
          message: expect.stringMatching(/^AutoAnchor at img 64: .*fit the labels/),
        }),
      );
    }
    expect(comparison.csv.split('\r\n')[0]).toContain('bestMap50_95');
    expect(comparison.csv.trim().split('\r\n')).toHaveLength(4);
  });

  it('SIGKILL mid-epoch leaves the database intact and the run interrupted; resume completes it', async () => {
    const { runId } = await call<{ runId: number }>('runs.start', { ...base(), epochs: 3, freeze: 'backbone' });
    // Wait until epoch 0 is recorded and epoch 1 is training, then kill the worker outright.
    await until('epoch 1 to start', () =>
      progressOf(runId).some((p) => p.epoch === 1 && p.phase === 'train') ? true : undefined,
    );
    const { run } = await call<{ run: { pid: number | null } }>('runs.get', { id: runId });
    expect(run.pid).toBeGreaterThan(0);
    process.kill(run.pid!, 'SIGKILL');
    await until('the run to be interrupted', async () =>
      (await statusOf(runId)) === 'interrupted' ? true : undefined,
    );

    const db = new Database(dbPath, { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
    const interrupted = await call<{ run: { statusReason: string; lastEpochDone: number }; epochs: unknown[] }>(
      'runs.get',
      { id: runId },
    );
    expect(interrupted.run.statusReason).toMatch(/killed \(SIGKILL\)/);
    expect(interrupted.run.lastEpochDone).toBe(0);
    expect(interrupted.epochs).toHaveLength(1);

    await call('runs.resume', { id: runId });
    await until('the resumed run to complete', async () =>
      (await statusOf(runId)) === 'completed' ? true : undefined,
    );
    const done = await call<{
      epochs: { epoch: number }[];
      artifacts: { kind: string; path: string; sha256: string }[];
    }>('runs.get', { id: runId });
    expect(done.epochs.map((e) => e.epoch)).toEqual([0, 1, 2]);
    expect(done.artifacts.map((a) => a.kind).sort()).toEqual(['best', 'last']);
    for (const a of done.artifacts) expect(a.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(path.basename(done.artifacts.find((a) => a.kind === 'last')!.path)).toBe('last.safetensors');
  });

  it('cancel stops a running run at a batch boundary and keeps what was recorded', async () => {
    const { runId } = await call<{ runId: number }>('runs.start', { ...base(), epochs: 5 });
    await until('epoch 1 to start', () => (progressOf(runId).some((p) => p.epoch === 1) ? true : undefined));
    await call('runs.cancel', { id: runId });
    await until('the run to be cancelled', async () => ((await statusOf(runId)) === 'cancelled' ? true : undefined));
    const detail = await call<{ run: { statusReason: string }; epochs: unknown[] }>('runs.get', { id: runId });
    expect(detail.run.statusReason).toMatch(/Cancelled by the user/);
    expect(detail.epochs.length).toBeGreaterThanOrEqual(1);
  });

  it('a run whose data cannot be read is refused with the reason', async () => {
    const broken = await makeTinyDataset({ train: 2, val: 1, size: 64 });
    const { writeFileSync } = await import('node:fs');
    writeFileSync(
      path.join(broken.root, 'data.yaml'),
      'path: .\ntrain: images/train\nval: images/missing\nnames: [a, b]\n',
    );
    const result = await service.dispatch('runs.start', { ...base(), data: broken.yaml, epochs: 1 });
    // Queuing already checks the data YAML: a missing split folder is refused before anything runs.
    expect(result).toMatchObject({ ok: false, error: { code: 'not-found' } });
    if (!result.ok) expect(result.error.message).toContain('missing');
  });

  it('refuses at queue time a model file that does not exist and a freeze spec the model cannot take', async () => {
    const missing = await service.dispatch('runs.start', { ...base(), model: '/nope/model.yaml', epochs: 1 });
    expect(missing).toMatchObject({ ok: false, error: { code: 'not-found' } });
    // An unknown hyp name is refused when queued, not when the run starts.
    const hyp = await service.dispatch('runs.start', { ...base(), hyp: 'scratch-hi', epochs: 1 });
    expect(hyp).toMatchObject({ ok: false, error: { code: 'not-found' } });
    if (!hyp.ok) expect(hyp.error.message).toMatch(/scratch-hi/);
    const tooDeep = await service.dispatch('runs.start', { ...base(), freeze: '0-30', epochs: 1 });
    expect(tooDeep).toMatchObject({ ok: false, error: { code: 'invalid-input' } });
    if (!tooDeep.ok) expect(tooDeep.error.message).toMatch(/30/);
    // hyp.VOC gives an anchor count, not sizes: only AutoAnchor can fill them in.
    const noAnchors = await service.dispatch('runs.start', { ...base(), hyp: 'VOC', autoanchor: false, epochs: 1 });
    expect(noAnchors).toMatchObject({ ok: false, error: { code: 'invalid-input' } });
    if (!noAnchors.ok) {
      expect(noAnchors.error.message).toBe(
        'VOC asks for 3 anchors per level computed from the labels (it gives no anchor sizes), but AutoAnchor is off.',
      );
      expect(noAnchors.error.hint).toMatch(/Turn AutoAnchor on/);
    }
  });
});
