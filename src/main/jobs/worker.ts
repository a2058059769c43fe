/**
 * A training worker: claims one queued run, trains it, and records everything it measures in the
 * database as it goes (epochs, samples, checkpoints, final evaluation), so a crash or a kill
 * loses at most the epoch in progress. Progress messages to the runner are throttled here, and only
 * here: everything downstream (runner, event bus, hosts, renderer, charts) passes them on as they come.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { RunProgress } from '../../shared/contract.js';
import type { RunStatus } from '../../shared/runs.js';
import { parseRunConfig } from '../../shared/train-config.js';
import { describeDevice, initBackend, memoryInfo } from '../engine/tf/backend.js';
import { runTraining, TrainingStopped } from '../engine/train/trainer.js';
import {
  addArtifact,
  addRunNote,
  addSamples,
  artifactsOf,
  claimRun,
  databaseId,
  getRunRecord,
  heartbeat,
  HEARTBEAT_INTERVAL_MS,
  ownsRun,
  thisProcess,
  openStore,
  recordEpoch,
  saveEvaluation,
  setRunModelInfo,
  setRunStatus,
  type Db,
} from '../store/index.js';
import type { FromWorker, ToWorker } from './protocol.js';
import { ResourceSampler } from './sampler.js';
import { sha256File } from '../files.js';

/**
 * A run's folder: `<runsDir>/<database UUID>/<run id>`, so two databases sharing one data folder
 * never write into each other's runs. A run that already has checkpoints keeps the folder they are
 * in (runs from before schema 4 live in `<runsDir>/<run id>`).
 */
export function runDirOf(db: Db, runsDir: string, runId: number): string {
  const last = artifactsOf(db, runId).find((a) => a.kind === 'last') ?? artifactsOf(db, runId)[0];
  return last && last.kind !== 'export' ? path.dirname(last.path) : path.join(runsDir, databaseId(db), String(runId));
}

export interface WorkerChannel {
  send(message: FromWorker): void;
  onMessage(listener: (message: ToWorker) => void): void;
}

/**
 * Minimum interval between training progress messages: the one throttle of the progress path (the
 * UI, live charts included, redraws at most this often). The last batch of an epoch and the
 * setup, validation and save phases are always sent.
 */
const PROGRESS_INTERVAL_MS = 250;
const SAMPLE_INTERVAL_MS = 1000;

export async function runWorker(channel: WorkerChannel): Promise<number> {
  const controller = new AbortController();
  let stopReason: 'cancel' | 'shutdown' | 'lost' | undefined;
  const start = new Promise<Extract<ToWorker, { type: 'start' }>>((resolve) => {
    channel.onMessage((message) => {
      if (message.type === 'start') resolve(message);
      else if (!stopReason) {
        stopReason = message.type;
        controller.abort();
      }
    });
  });
  const { runId, dbPath, runsDir } = await start;
  const db = openStore(dbPath);
  const me = thisProcess();
  const status = (to: RunStatus, reason: string | null) => {
    // A run taken over by another process (it judged this one dead) is no longer ours to end.
    if (!ownsRun(db, runId, me)) return;
    setRunStatus(db, runId, to, { reason });
    channel.send({ type: 'status', runId, status: to, reason });
  };
  const claimed = claimRun(db, { owner: me, runId });
  if (!claimed) {
    channel.send({ type: 'log', level: 'warning', message: `Run ${runId} is not queued any more; nothing to do.` });
    db.close();
    return 0;
  }
  // The heartbeat tells processes on other hosts (which cannot check our pid) that the run is alive.
  const beat = setInterval(() => {
    if (heartbeat(db, runId, me) || stopReason) return;
    stopReason = 'lost';
    channel.send({
      type: 'log',
      level: 'warning',
      message: `Run ${runId} was taken over by another FreezeLab process; this one stops training it.`,
    });
    controller.abort();
  }, HEARTBEAT_INTERVAL_MS);
  beat.unref();
  channel.send({ type: 'status', runId, status: 'running', reason: null });

  const sampler = new ResourceSampler({
    intervalMs: SAMPLE_INTERVAL_MS,
    pid: process.pid,
    tensorBytes: () => memoryInfo().numBytes,
  });
  const flushSamples = () => addSamples(db, runId, sampler.takeSamples());
  let lastProgress = 0;
  try {
    // The one parse of the stored config: resolved when queued (frozen modules included), or a
    // run queued before schema 5, whose freeze the trainer resolves once as it builds the model.
    const config = parseRunConfig(claimed.config);
    const backend = await initBackend(config.backend ? { prefer: config.backend } : {});
    // Whether the GPU is really used: libtensorflow's GPU build falls back to the CPU without CUDA.
    addRunNote(db, runId, 'info', `Backend ${backend.name}, device: ${describeDevice(backend).detail}.`);
    sampler.start();
    const runDir = runDirOf(db, runsDir, runId);
    const outcome = await runTraining(config, {
      runDir,
      resume: claimed.lastEpochDone >= 0,
      signal: controller.signal,
      onModel: (info) => setRunModelInfo(db, runId, { ...info, backend: backend.name }),
      onProgress: (p) => {
        const now = Date.now();
        if (now - lastProgress < PROGRESS_INTERVAL_MS && p.phase === 'train' && p.batch + 1 < p.batches) return;
        lastProgress = now;
        const progress: RunProgress = {
          ...p,
          runId,
          tensorBytes: memoryInfo().numBytes,
          rssBytes: process.memoryUsage().rss,
        };
        channel.send({ type: 'progress', progress });
      },
      onEpoch: (epoch, perClass) => {
        if (!ownsRun(db, runId, me)) {
          stopReason ??= 'lost';
          controller.abort();
          return;
        }
        const peaks = sampler.takeWindowPeaks();
        const record = {
          ...epoch,
          // The trainer measures live tensors exactly; the timer samples can only miss the peak.
          peakTensorBytes: Math.max(epoch.peakTensorBytes ?? 0, peaks.tensorBytes ?? 0) || null,
          peakRssBytes: peaks.rssBytes,
          peakGpuMemBytes: peaks.processGpuMemBytes ?? peaks.gpuMemUsedBytes,
        };
        flushSamples();
        recordEpoch(db, runId, record, perClass);
        channel.send({ type: 'epoch', payload: { runId, epoch: record, classAp: perClass } });
      },
      onCheckpoint: async (kind, file, epoch) => {
        const info = await stat(file);
        addArtifact(db, runId, { kind, path: file, sha256: await sha256File(file), bytes: info.size, epoch });
      },
      onFinalEvaluation: (result, weights) => saveEvaluation(db, runId, { weights, split: 'val', result }),
      onWarning: (message) => {
        addRunNote(db, runId, 'warning', message);
        channel.send({ type: 'log', level: 'warning', message: `Run ${runId}: ${message}` });
      },
      onInfo: (message) => addRunNote(db, runId, 'info', message),
    });
    sampler.stop();
    flushSamples();
    status('completed', outcome.summary);
    return 0;
  } catch (error) {
    sampler.stop();
    flushSamples();
    if (error instanceof TrainingStopped || controller.signal.aborted) {
      if (stopReason === 'lost') return 0;
      if (stopReason === 'shutdown')
        status('interrupted', 'FreezeLab was closed during the run. Resume it to continue.');
      else status('cancelled', `Cancelled by the user ${describeWhere(db, runId)}.`);
      return 0;
    }
    const message = error instanceof Error ? error.message : String(error);
    status('failed', message);
    channel.send({ type: 'log', level: 'error', message: `Run ${runId} failed: ${message}` });
    return 1;
  } finally {
    clearInterval(beat);
    db.close();
  }
}

function describeWhere(db: Db, runId: number): string {
  const run = getRunRecord(db, runId);
  return run && run.lastEpochDone >= 0
    ? `after epoch ${run.lastEpochDone + 1}; recorded epochs are kept`
    : 'during the first epoch';
}
