/** A run's export folder: its checkpoints, per-epoch metrics (CSV) and full detail (JSON). */
import type { Stats } from 'node:fs';
import { copyFile, mkdir, readdir, realpath, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FreezeLabError } from '../../../shared/result.js';
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

/** Kernel pseudo-filesystems: writing there hangs or does harm, never makes an export. */
const SYSTEM_ROOTS = ['/proc', '/sys', '/dev'];

/** The deepest part of `dir` that exists, with links resolved (where the export would really go). */
async function existingAncestor(dir: string): Promise<string> {
  for (let p = dir; ; p = path.dirname(p)) {
    const real = await realpath(p).catch(() => undefined);
    if (real !== undefined) return real;
    if (path.dirname(p) === p) return p;
  }
}

/**
 * Makes the export folder, or checks the one given: an export never overwrites files silently.
 * Every refusal names the path.
 */
export async function prepareExportDir(dir: string, force: boolean): Promise<void> {
  const info = await checkExportFolder(dir);
  if (info && !force && (await readdir(dir)).length > 0) {
    throw new FreezeLabError(
      'conflict',
      `${dir} already exists and is not empty: an export never overwrites files.`,
      'Choose a new folder, or pass --force to replace the files of the same name.',
    );
  }
  await mkdir(dir, { recursive: true }).catch((error: NodeJS.ErrnoException) => {
    throw new FreezeLabError(
      'bad-file',
      `Cannot make the export folder ${dir}: ${error.code ?? error.message}.`,
      'Choose a folder you can write to.',
    );
  });
}

/** Refuses system folders and a file in place of the folder; the folder's stat when it exists. */
async function checkExportFolder(dir: string): Promise<Stats | undefined> {
  const real = await existingAncestor(dir);
  if (process.platform !== 'win32' && SYSTEM_ROOTS.some((r) => real === r || real.startsWith(`${r}/`))) {
    throw new FreezeLabError(
      'invalid-input',
      `${dir}: ${real} is a system folder, not a place for an export.`,
      'Export to a folder of your own.',
    );
  }
  const info = await stat(dir).catch(() => undefined);
  if (info && !info.isDirectory()) {
    throw new FreezeLabError('conflict', `${dir} exists and is not a folder.`, 'Choose a new folder for the export.');
  }
  return info;
}

const refuseOverwrite = (file: string): FreezeLabError =>
  new FreezeLabError(
    'conflict',
    `${file} already exists: an export never overwrites files.`,
    'Choose another folder, or pass --force to replace it.',
  );

/**
 * Writes one export file into `dir` (made if needed; other files there are left alone). An
 * existing file of that name is refused unless `force`, also when it appears while writing.
 */
export async function writeExportFile(dir: string, name: string, bytes: Uint8Array, force: boolean): Promise<string> {
  await checkExportFolder(dir);
  const target = path.join(dir, name);
  if (!force && (await stat(target).catch(() => undefined))) throw refuseOverwrite(target);
  await mkdir(dir, { recursive: true }).catch((error: NodeJS.ErrnoException) => {
    throw new FreezeLabError(
      'bad-file',
      `Cannot make the export folder ${dir}: ${error.code ?? error.message}.`,
      'Choose a folder you can write to.',
    );
  });
  await writeFile(target, bytes, { flag: force ? 'w' : 'wx' }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'EEXIST') throw refuseOverwrite(target);
    throw new FreezeLabError(
      'bad-file',
      `Cannot write ${target}: ${error.code ?? error.message}.`,
      'Check the folder and the disk, then export again.',
    );
  });
  return target;
}

/** A file operation whose failure names the file (and the source of a copy). */
async function named(target: string, op: Promise<void>, source?: string): Promise<void> {
  await op.catch((error: NodeJS.ErrnoException) => {
    const what = source ? `Cannot copy ${source} to ${target}` : `Cannot write ${target}`;
    throw new FreezeLabError(
      'bad-file',
      `${what}: ${error.code ?? error.message}.`,
      'Check the folder and the disk, then export again.',
    );
  });
}

/** Writes a run's export folder (used by the `runs.export` service command); epochs count from 1. */
export async function writeRunExport(stored: RunDetail, dir: string, force = false): Promise<string[]> {
  const detail = detailFromOne(stored);
  await prepareExportDir(dir, force);
  const files: string[] = [];
  for (const a of detail.artifacts) {
    if (a.kind === 'export') continue;
    const target = path.join(dir, `${a.kind}${path.extname(a.path)}`);
    await named(target, copyFile(a.path, target), a.path);
    files.push(target);
  }
  const json = path.join(dir, 'run.json');
  await named(json, writeFile(json, `${JSON.stringify(detail, null, 2)}\n`));
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
  await named(csv, writeFile(csv, `${[header.join(','), ...lines].join('\n')}\n`));
  files.push(csv);
  return files;
}
