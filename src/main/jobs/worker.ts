/**
 * A training worker: claims one queued run, trains it, and records everything it measures in the
 * database as it goes (epochs, samples, checkpoints, final evaluation), so a crash or a kill
 * loses at most the epoch in progress. Progress messages to the runner are throttled.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { RunProgress } from '../../shared/contract.js';
import type { RunStatus } from '../../shared/runs.js';
import { trainConfigSchema } from '../../shared/train-config.js';
import { describeDevice, initBackend, memoryInfo } from '../engine/tf/backend.js';
import { runTraining, TrainingStopped } from '../engine/train/trainer.js';
import {
  addArtifact,
  addRunNote,
  addSamples,
  claimRun,
  getRunRecord,
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

export interface WorkerChannel {
  send(message: FromWorker): void;
  onMessage(listener: (message: ToWorker) => void): void;
}

/** Minimum interval between progress messages (the UI redraws at most this often). */
const PROGRESS_INTERVAL_MS = 250;
const SAMPLE_INTERVAL_MS = 1000;

export async function runWorker(channel: WorkerChannel): Promise<number> {
  const controller = new AbortController();
  let stopReason: 'cancel' | 'shutdown' | undefined;
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
  const status = (to: RunStatus, reason: string | null) => {
    setRunStatus(db, runId, to, { reason });
    channel.send({ type: 'status', runId, status: to, reason });
  };
  const claimed = claimRun(db, { pid: process.pid, runId });
  if (!claimed) {
    channel.send({ type: 'log', level: 'warning', message: `Run ${runId} is not queued any more; nothing to do.` });
    db.close();
    return 0;
  }
  channel.send({ type: 'status', runId, status: 'running', reason: null });

  const sampler = new ResourceSampler({
    intervalMs: SAMPLE_INTERVAL_MS,
    pid: process.pid,
    tensorBytes: () => memoryInfo().numBytes,
  });
  const flushSamples = () => addSamples(db, runId, sampler.takeSamples());
  let lastProgress = 0;
  try {
    const config = trainConfigSchema.parse(claimed.config);
    const backend = await initBackend(config.backend ? { prefer: config.backend } : {});
    // Whether the GPU is really used: libtensorflow's GPU build falls back to the CPU without CUDA.
    addRunNote(db, runId, 'info', `Backend ${backend.name}, device: ${describeDevice(backend).detail}.`);
    sampler.start();
    const runDir = path.join(runsDir, String(runId));
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
        channel.send({ type: 'epoch', runId, epoch: record });
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
    db.close();
  }
}

function describeWhere(db: Db, runId: number): string {
  const run = getRunRecord(db, runId);
  return run && run.lastEpochDone >= 0
    ? `after epoch ${run.lastEpochDone + 1}; recorded epochs are kept`
    : 'during the first epoch';
}
