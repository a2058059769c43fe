/**
 * The renderer's runs state follows service events: an epoch event updates the open run's detail
 * and the runs list row from its payload, without asking the service again; a status event still
 * reloads both. The state classes are imported through the Svelte compiler (runes), over a fake
 * preload transport that counts the commands sent.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CommandName, EventMessage, Events, Transport } from '../../../src/shared/contract.js';
import { PRELOAD_GLOBAL } from '../../../src/shared/ipc.js';
import type { ClassMetrics } from '../../../src/shared/metrics.js';
import type { Result } from '../../../src/shared/result.js';
import type { EpochRecord, RunDetail, RunRecord, RunSummary } from '../../../src/shared/runs.js';
import type * as RunsLib from '../../../src/renderer/lib/runs.svelte.js';
import { epoch } from '../store/fixtures.js';

const RUN_ID = 7;

function runRecord(over: Partial<RunRecord> = {}): RunRecord {
  return {
    id: RUN_ID,
    createdAt: 1,
    name: 'run 7',
    sweepId: null,
    status: 'running',
    statusReason: null,
    config: {},
    datasetPath: '/data.yaml',
    datasetFingerprint: null,
    weightsPath: null,
    weightsSha256: null,
    model: 'yolov5n',
    imgSize: 64,
    batch: 2,
    epochs: 3,
    freezeSpec: 'none',
    frozenModules: [],
    bnPolicy: 'freeze',
    hypName: null,
    backend: 'cpu',
    trainableParams: 10,
    totalParams: 10,
    seed: 0,
    startedAt: 2,
    finishedAt: null,
    pid: 123,
    lastEpochDone: 0,
    bestFitness: null,
    bestEpoch: null,
    ...over,
  };
}

const headline = (e: EpochRecord) => ({
  epoch: e.epoch,
  precision: e.precision,
  recall: e.recall,
  map50: e.map50,
  map50_95: e.map50_95,
  fitness: e.fitness,
});

const classAp = (ap50: number): ClassMetrics[] => [
  { classId: 0, name: 'square', images: 2, instances: 2, precision: 0.5, recall: 0.5, ap50, ap50_95: ap50 / 2 },
];

/** The service as the fake transport answers it: one run with epoch 0 recorded. */
const first = epoch(0);
const run = runRecord({ lastEpochDone: 0, bestEpoch: 0, bestFitness: first.fitness });
const summary: RunSummary = { run, last: headline(first), best: headline(first) };
const detail: RunDetail = { run, notes: [], epochs: [first], classAp: classAp(0.3), artifacts: [], evaluation: null };

const calls: CommandName[] = [];
let emit: (message: EventMessage) => void = () => undefined;
const fake: Transport = {
  invoke(name: CommandName): Promise<Result<unknown>> {
    calls.push(name);
    const value = name === 'runs.list' ? [summary] : name === 'runs.get' ? detail : [];
    return Promise.resolve({ ok: true, value });
  },
  onEvent(listener) {
    emit = listener;
    return () => undefined;
  },
};

let lib: typeof RunsLib;

beforeAll(async () => {
  // The renderer's client picks the Electron preload when the window has one: here, the fake.
  vi.stubGlobal('window', { [PRELOAD_GLOBAL]: fake });
  lib = await import('../../../src/renderer/lib/runs.svelte.js');
});

afterEach(() => {
  vi.useRealTimers();
  calls.length = 0;
});

/** Lets resolved transport answers reach the state (no timers involved). */
const settle = async () => {
  for (let i = 0; i < 5; i += 1) await Promise.resolve();
};

async function opened() {
  vi.useFakeTimers();
  const state = new lib.RunsState();
  const disconnect = state.connect();
  const view = new lib.RunView(RUN_ID);
  const close = view.open(state);
  await settle();
  expect(state.summaries).toEqual([summary]);
  expect(view.detail).toEqual(detail);
  calls.length = 0;
  return { state, view, stop: () => (close(), disconnect()) };
}

const epochEvent = (payload: Events['run.epoch']): EventMessage => ({ event: 'run.epoch', payload });

describe('renderer runs state', () => {
  it('an epoch event updates the open detail and the list row without a refetch', async () => {
    const { state, view, stop } = await opened();
    const better = epoch(1, { map50_95: 0.5, map50: 0.7 });
    emit(epochEvent({ runId: RUN_ID, epoch: better, classAp: classAp(0.7) }));
    // Any debounced reload would be due by now.
    vi.runOnlyPendingTimers();
    await settle();

    expect(calls.filter((c) => c === 'runs.list' || c === 'runs.get')).toEqual([]);
    expect(view.detail?.epochs).toEqual([first, better]);
    expect(view.detail?.classAp).toEqual(classAp(0.7));
    expect(view.detail?.run).toMatchObject({ lastEpochDone: 1, bestEpoch: 1, bestFitness: better.fitness });
    expect(state.summaries).toHaveLength(1);
    expect(state.summaries[0]?.last).toEqual(headline(better));
    expect(state.summaries[0]?.best).toEqual(headline(better));
    expect(state.summaries[0]?.run).toMatchObject({ lastEpochDone: 1, bestEpoch: 1 });

    // A worse epoch moves the last figures only, and keeps the best epoch's class AP.
    const worse = epoch(2, { map50_95: 0.1, map50: 0.2 });
    emit(epochEvent({ runId: RUN_ID, epoch: worse, classAp: classAp(0.2) }));
    vi.runOnlyPendingTimers();
    await settle();
    expect(calls.filter((c) => c === 'runs.list' || c === 'runs.get')).toEqual([]);
    expect(view.detail?.epochs.map((e) => e.epoch)).toEqual([0, 1, 2]);
    expect(view.detail?.classAp).toEqual(classAp(0.7));
    expect(state.summaries[0]?.last).toEqual(headline(worse));
    expect(state.summaries[0]?.best).toEqual(headline(better));
    stop();
  });

  it('a status event still reloads the list and the detail', async () => {
    const { stop } = await opened();
    emit({ event: 'run.status', payload: { runId: RUN_ID, status: 'completed', reason: null } });
    vi.runOnlyPendingTimers();
    await settle();
    expect(calls.filter((c) => c === 'runs.list' || c === 'runs.get').sort()).toEqual(['runs.get', 'runs.list']);
    stop();
  });

  it('the best epoch recorded again with a lower fitness is left to the service', () => {
    const lower = epoch(0, { map50_95: 0.01, map50: 0.02 });
    expect(lib.summaryWithEpoch(summary, lower)).toBeUndefined();
    expect(lib.detailWithEpoch(detail, { runId: RUN_ID, epoch: lower, classAp: [] })).toEqual({
      ...detail,
      epochs: [lower],
      run: { ...run, bestEpoch: 0, bestFitness: lower.fitness },
      classAp: [],
    });
  });
});
