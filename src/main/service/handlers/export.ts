/** A run's export folder: its checkpoints, per-epoch metrics (CSV) and full detail (JSON). */
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { RunDetail } from '../../../shared/runs.js';

/** Writes a run's export folder (used by the `runs.export` service command). */
export async function writeRunExport(detail: RunDetail, dir: string): Promise<string[]> {
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
