/**
 * Dataset validation: counts per split and class, and every problem with file, line and reason.
 * Bad rows and images are skipped, never fatal; only an unusable YAML throws (DataConfigError).
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { ClassCount, DatasetProblem, DatasetReport, SplitReport } from '../../../shared/report.js';
import { type DataConfig, SPLITS, listSplitImages, loadDataConfig } from './config.js';
import { type DecodeMode, type ImageScan, type ScanProblem, mapPool, scanImage } from './scan.js';

/** Options of `checkDataset`. */
export interface CheckOptions {
  /** 'full' decodes every image (default), 'header' reads headers and decodes only suspect JPEGs. */
  readonly decode?: DecodeMode;
  /** Problems listed at most (the rest are counted in `truncatedProblems`). Default 1000. */
  readonly maxProblems?: number;
  /** Images scanned at once. Default 4. */
  readonly concurrency?: number;
}

/** A scanned split: the images in YOLOv5 order with their labels. */
export interface ScannedSplit {
  readonly split: string;
  readonly images: readonly ImageScan[];
}

/** Scans every split of a loaded config; an image shared by splits is scanned once. */
export async function scanDataset(cfg: DataConfig, opts: CheckOptions = {}): Promise<ScannedSplit[]> {
  const cache = new Map<string, Promise<ImageScan>>();
  const out: ScannedSplit[] = [];
  for (const split of SPLITS) {
    const sources = cfg.splits[split];
    if (!sources) continue;
    const files = await listSplitImages(sources, cfg.root);
    const images = await mapPool(files, opts.concurrency ?? 4, (f) => {
      let p = cache.get(f);
      if (!p) {
        p = scanImage(f, cfg.nc, opts.decode ?? 'full');
        cache.set(f, p);
      }
      return p;
    });
    out.push({ split, images });
  }
  return out;
}

/** Checks the dataset described by a data YAML. Throws DataConfigError only for the YAML itself. */
export async function checkDataset(yamlFile: string, opts: CheckOptions = {}): Promise<DatasetReport> {
  const t0 = performance.now();
  const cfg = await loadDataConfig(yamlFile);
  const scanned = await scanDataset(cfg, opts);
  const problems: DatasetProblem[] = [];
  const reported = new Set<string>();
  const rel = (f: string): string => {
    const r = path.relative(cfg.root, f);
    return r.startsWith('..') || path.isAbsolute(r) ? f : r.split(path.sep).join('/');
  };
  const add = (split: string, p: ScanProblem): void => {
    const file = rel(p.file);
    const text = `${file}${p.line !== undefined ? `:${p.line}` : ''}: ${p.reason}`;
    // Splits often share images (coco128 validates on train): report each problem once.
    if (reported.has(text)) return;
    reported.add(text);
    problems.push({
      kind: p.kind,
      severity: p.severity,
      split,
      file,
      ...(p.line !== undefined ? { line: p.line } : {}),
      reason: p.reason,
      text,
    });
  };
  const splits: SplitReport[] = [];
  for (const { split, images } of scanned) {
    const perClass = cfg.names.map(() => ({ images: 0, instances: 0 }));
    let usable = 0;
    let backgrounds = 0;
    let instances = 0;
    let polygons = 0;
    let droppedRows = 0;
    for (const im of images) {
      for (const p of im.problems) add(split, p);
      droppedRows += im.droppedRows;
      if (!im.ok) continue;
      usable++;
      if (im.rows.length === 0) backgrounds++;
      const classes = new Set<number>();
      for (const r of im.rows) {
        perClass[r.cls]!.instances++;
        classes.add(r.cls);
        if (r.polygon) polygons++;
      }
      for (const c of classes) perClass[c]!.images++;
      instances += im.rows.length;
    }
    if (usable === 0) {
      add(split, {
        kind: 'empty-split',
        severity: 'error',
        file: cfg.yamlFile,
        reason: `${split} split has no usable image`,
      });
    }
    const counts: ClassCount[] = perClass.map((c, i) => ({ classId: i, name: cfg.names[i]!, ...c }));
    splits.push({
      split,
      imagesFound: images.length,
      images: usable,
      skippedImages: images.length - usable,
      backgrounds,
      instances,
      polygons,
      droppedRows,
      perClass: counts,
    });
  }
  // Orphans over all splits together: a val list naming a few train images orphans nothing.
  for (const f of await orphanLabels(scanned.flatMap((s) => s.images))) {
    add(scanned.find((s) => s.images.some((i) => path.dirname(i.labelFile) === path.dirname(f)))?.split ?? '', {
      kind: 'orphan-label',
      severity: 'warning',
      file: f,
      reason: 'label file without a matching image; ignored',
    });
  }
  if (scanned.length === 0) {
    add('', { kind: 'empty-split', severity: 'error', file: cfg.yamlFile, reason: 'no split to check' });
  }
  const order = { error: 0, warning: 1, info: 2 } as const;
  problems.sort(
    (a, b) => order[a.severity] - order[b.severity] || a.file.localeCompare(b.file) || (a.line ?? 0) - (b.line ?? 0),
  );
  const max = opts.maxProblems ?? 1000;
  const count = (s: string): number => problems.filter((p) => p.severity === s).length;
  return {
    yamlFile: cfg.yamlFile,
    root: cfg.root,
    nc: cfg.nc,
    names: cfg.names,
    splits,
    problems: problems.slice(0, max),
    errors: count('error'),
    warnings: count('warning'),
    infos: count('info'),
    truncatedProblems: Math.max(0, problems.length - max),
    ms: Math.round(performance.now() - t0),
  };
}

/** .txt files in the label folders of the given images that none of them maps to. */
async function orphanLabels(images: readonly ImageScan[]): Promise<string[]> {
  const expected = new Set(images.map((i) => i.labelFile));
  const dirs = new Set(images.map((i) => path.dirname(i.labelFile)));
  const out: string[] = [];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      continue;
    }
    for (const n of names) {
      const f = path.join(dir, n);
      if (n.endsWith('.txt') && !expected.has(f)) out.push(f);
    }
  }
  return out.sort();
}
