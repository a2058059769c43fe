/**
 * The dataset browser's index of one split: every image with its kept label rows (1-based lines)
 * and its problems, as the dataset check reports them (same scanner, same `file:line: reason`
 * text), plus the split's class histogram. Built once per (YAML, mtime, split) and kept in memory,
 * so paging and filtering a 10,000-image split cost a pass over an array, not a rescan.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { BrowseImage, BrowseSplit } from '../../../shared/commands/dataset.js';
import type { ClassCount, DatasetProblem, ProblemKind } from '../../../shared/report.js';
import { DataConfigError, listSplitImages, loadDataConfig } from './config.js';
import { type DecodeMode, mapPool, scanImage } from './scan.js';

export interface BrowseIndex {
  readonly yamlFile: string;
  readonly root: string;
  readonly split: BrowseSplit;
  readonly splits: readonly BrowseSplit[];
  readonly names: readonly string[];
  readonly images: readonly BrowseImage[];
  readonly classCounts: readonly ClassCount[];
  readonly backgrounds: number;
  readonly problemKinds: readonly { readonly kind: ProblemKind; readonly images: number }[];
  readonly scanMs: number;
}

export interface BrowseFilter {
  readonly class?: number | undefined;
  readonly problem?: ProblemKind | undefined;
  readonly background?: boolean | undefined;
}

/** Options of `buildBrowseIndex`. */
export interface BrowseScanOptions {
  /** 'header' (default) reads image headers and decodes only suspect JPEGs, like a quick check. */
  readonly decode?: DecodeMode;
  /** Images scanned at once. Default 8 (header reads are I/O bound). */
  readonly concurrency?: number;
}

/** Scans one split of a data YAML. Throws DataConfigError for the YAML or a split it lacks. */
export async function buildBrowseIndex(
  yamlFile: string,
  split: BrowseSplit,
  opts: BrowseScanOptions = {},
): Promise<BrowseIndex> {
  const t0 = performance.now();
  const cfg = await loadDataConfig(yamlFile);
  const splits = (['train', 'val', 'test'] as const).filter((s) => cfg.splits[s]);
  const sources = cfg.splits[split];
  if (!sources) {
    throw new DataConfigError(
      'bad-file',
      `${cfg.yamlFile}: the dataset has no ${split} split (it has ${splits.join(', ') || 'none'})`,
      `Choose one of its splits: ${splits.join(', ')}.`,
    );
  }
  const files = await listSplitImages(sources, cfg.root);
  const scans = await mapPool(files, opts.concurrency ?? 8, (f) => scanImage(f, cfg.nc, opts.decode ?? 'header'));
  // Paths as the dataset report prints them (check.ts): relative to the root when inside it.
  const rel = (f: string): string => {
    const r = path.relative(cfg.root, f);
    return r.startsWith('..') || path.isAbsolute(r) ? f : r.split(path.sep).join('/');
  };
  const perClass = cfg.names.map(() => ({ images: 0, instances: 0 }));
  const kindImages = new Map<ProblemKind, number>();
  let backgrounds = 0;
  const images: BrowseImage[] = scans.map((s) => {
    const problems: DatasetProblem[] = s.problems.map((p) => {
      const file = rel(p.file);
      return {
        kind: p.kind,
        severity: p.severity,
        split,
        file,
        ...(p.line !== undefined ? { line: p.line } : {}),
        reason: p.reason,
        text: `${file}${p.line !== undefined ? `:${p.line}` : ''}: ${p.reason}`,
      };
    });
    for (const kind of new Set(problems.map((p) => p.kind))) kindImages.set(kind, (kindImages.get(kind) ?? 0) + 1);
    if (s.ok) {
      if (s.rows.length === 0) backgrounds++;
      for (const r of s.rows) perClass[r.cls]!.instances++;
      for (const c of new Set(s.rows.map((r) => r.cls))) perClass[c]!.images++;
    }
    return {
      path: s.imageFile,
      name: rel(s.imageFile),
      labelFile: rel(s.labelFile),
      labelFileExists: s.labelFileExists,
      width: s.width,
      height: s.height,
      ok: s.ok,
      boxes: s.rows.map((r) => ({ cls: r.cls, x: r.cx, y: r.cy, w: r.w, h: r.h, line: r.line, polygon: r.polygon })),
      problems,
    };
  });
  return {
    yamlFile: cfg.yamlFile,
    root: cfg.root,
    split,
    splits,
    names: cfg.names,
    images,
    classCounts: perClass.map((c, i) => ({ classId: i, name: cfg.names[i]!, ...c })),
    backgrounds,
    problemKinds: [...kindImages].map(([kind, n]) => ({ kind, images: n })).sort((a, b) => b.images - a.images),
    scanMs: Math.round(performance.now() - t0),
  };
}

/** The images of an index matching every given filter, in split order. */
export function filterBrowse(index: BrowseIndex, f: BrowseFilter): readonly BrowseImage[] {
  if (f.class === undefined && f.problem === undefined && !f.background) return index.images;
  return index.images.filter(
    (im) =>
      (f.class === undefined || im.boxes.some((b) => b.cls === f.class)) &&
      (f.problem === undefined || im.problems.some((p) => p.kind === f.problem)) &&
      (!f.background || (im.ok && im.boxes.length === 0)),
  );
}

/**
 * Scanned splits kept in memory, keyed by YAML path and split and checked against the YAML's
 * mtime: an edited YAML rescans. Label edits do not touch the YAML: callers pass `refresh`.
 * Holds at most `max` splits (least recently used dropped).
 */
export class BrowseCache {
  private readonly entries = new Map<string, { mtimeMs: number; index: Promise<BrowseIndex> }>();
  constructor(
    private readonly max = 4,
    private readonly opts: BrowseScanOptions = {},
  ) {}

  /** The index and whether it came from memory. */
  async get(yamlFile: string, split: BrowseSplit, refresh = false): Promise<{ index: BrowseIndex; cached: boolean }> {
    const file = path.resolve(yamlFile);
    let mtimeMs = -1;
    try {
      mtimeMs = (await stat(file)).mtimeMs;
    } catch {
      // loadDataConfig names the missing file precisely
    }
    const key = `${split}\0${file}`;
    const hit = this.entries.get(key);
    if (hit && !refresh && hit.mtimeMs === mtimeMs) {
      this.entries.delete(key);
      this.entries.set(key, hit); // most recently used last
      return { index: await hit.index, cached: true };
    }
    const index = buildBrowseIndex(file, split, this.opts);
    this.entries.set(key, { mtimeMs, index });
    // a failed scan is not remembered
    index.catch(() => {
      if (this.entries.get(key)?.index === index) this.entries.delete(key);
    });
    while (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
    return { index: await index, cached: false };
  }
}
