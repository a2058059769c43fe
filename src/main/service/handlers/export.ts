/** A run's export folder: its checkpoints, per-epoch metrics (CSV) and full detail (JSON). */
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { EpochHeadline, RunDetail, RunRecord, RunSummary } from '../../../shared/runs.js';

/*
 * The store and the engine count epochs from 0, as YOLOv5 does; what people read counts from 1, as
 * the interface and the CLI's text do (and the comparison's best epoch, see src/shared/compare.ts).
 * These give a run's epoch fields counted from 1 for the exports and the CLI's JSON, the files and
 * output people and spreadsheets read. `lastEpochDone` then is the number of epochs done (0 before
 * the first).
 */
const fromOne = (epoch: number | null): number | null => (epoch === null ? null : epoch + 1);

function runFromOne(run: RunRecord): RunRecord {
  return { ...run, lastEpochDone: run.lastEpochDone + 1, bestEpoch: fromOne(run.bestEpoch) };
}

function headlineFromOne(h: EpochHeadline | null): EpochHeadline | null {
  return h === null ? null : { ...h, epoch: h.epoch + 1 };
}

/** A run's detail with every epoch index counted from 1 (run.json, `train --json`). */
export function detailFromOne(detail: RunDetail): RunDetail {
  return {
    ...detail,
    run: runFromOne(detail.run),
    epochs: detail.epochs.map((e) => ({ ...e, epoch: e.epoch + 1 })),
    artifacts: detail.artifacts.map((a) => ({ ...a, epoch: fromOne(a.epoch) })),
  };
}

/** A runs-list row with every epoch index counted from 1 (`runs --json`). */
export function summaryFromOne(summary: RunSummary): RunSummary {
  return { run: runFromOne(summary.run), last: headlineFromOne(summary.last), best: headlineFromOne(summary.best) };
}

/** Writes a run's export folder (used by the `runs.export` service command); epochs count from 1. */
export async function writeRunExport(stored: RunDetail, dir: string): Promise<string[]> {
  const detail = detailFromOne(stored);
  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  for (const a of detail.artifacts) {
    if (a.kind === 'export') continue;
    const target = path.join(dir, `${a.kind}${path.extname(a.path)}`);
    await copyFile(a.path, target);
    files.push(target);
  }
  const json = path.join(dir, 'run.json');
  await writeFile(json, `${JSON.stringify(detail, null, 2)}\n`);
  files.push(json);
  const header = [
    'epoch',
    'box_loss',
    'obj_loss',
    'cls_loss',
    'precision',
    'recall',
    'mAP50',
    'mAP50-95',
    'fitness',
    'seconds',
    // The headline memory figure (as in the app, the CLI and Compare): GPU memory where measured,
    // else the peak in-step tensor memory; the raw figures follow, RSS as a secondary one.
    'memory_bytes',
    'memory_kind',
    'peak_tensor_bytes',
    'peak_rss_bytes',
    'peak_gpu_mem_bytes',
  ];
  const lines = detail.epochs.map((e) =>
    [
      e.epoch,
      e.boxLoss,
      e.objLoss,
      e.clsLoss,
      e.precision,
      e.recall,
      e.map50,
      e.map50_95,
      e.fitness,
      e.seconds,
      e.peakGpuMemBytes ?? e.peakTensorBytes,
      e.peakGpuMemBytes !== null ? 'gpu' : e.peakTensorBytes !== null ? 'tensor' : null,
      e.peakTensorBytes,
      e.peakRssBytes,
      e.peakGpuMemBytes,
    ]
      .map((v) => (v === null ? '' : String(v)))
      .join(','),
  );
  const csv = path.join(dir, 'epochs.csv');
  await writeFile(csv, `${[header.join(','), ...lines].join('\n')}\n`);
  files.push(csv);
  return files;
}
