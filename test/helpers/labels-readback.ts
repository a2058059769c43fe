/**
 * YOLO label files with confidences (pre-labelling's, or val --save-txt --save-conf) read back as
 * predictions and evaluated against a split's ground truth with FreezeLab's Evaluator.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { EvalResult } from '../../src/shared/metrics.js';
import type { ImageScan } from '../../src/main/engine/data/scan.js';
import { Evaluator } from '../../src/main/engine/eval/evaluator.js';
import { parseLabelLines } from '../../src/main/engine/infer/label-format.js';

/** An image's ground truth in original pixels (x1, y1, x2, y2 per box). */
export function groundTruth(s: ImageScan): { boxes: number[]; cls: number[] } {
  const boxes: number[] = [];
  for (const r of s.rows)
    boxes.push(
      (r.cx - r.w / 2) * s.width,
      (r.cy - r.h / 2) * s.height,
      (r.cx + r.w / 2) * s.width,
      (r.cy + r.h / 2) * s.height,
    );
  return { boxes, cls: s.rows.map((r) => r.cls) };
}

/** Options of {@link evaluateLabelFiles}. */
export interface ReadBackOptions {
  readonly nc: number;
  /** A missing file means "no predictions" (val.py writes none then); otherwise it throws. */
  readonly missingIsEmpty?: boolean;
  /** Each image's ground truth in original pixels; default {@link groundTruth} (the label rows times the size). */
  readonly truthOf?: (s: ImageScan) => { boxes: ArrayLike<number>; cls: ArrayLike<number> };
}

/**
 * The metrics of the label files of `scans` (`fileOf(image)`), every line holding a confidence,
 * boxes denormalised by each image's original size.
 */
export function evaluateLabelFiles(
  scans: readonly ImageScan[],
  fileOf: (imageFile: string) => string,
  opts: ReadBackOptions,
): EvalResult {
  const ev = new Evaluator({ nc: opts.nc });
  for (const s of scans) {
    const file = fileOf(s.imageFile);
    const text = opts.missingIsEmpty && !existsSync(file) ? '' : readFileSync(file, 'utf8');
    const lines = parseLabelLines(text);
    const boxes: number[] = [];
    for (const l of lines) {
      if (l.conf === undefined) throw new Error(`${file}: a line without a confidence`);
      boxes.push(
        (l.cx - l.w / 2) * s.width,
        (l.cy - l.h / 2) * s.height,
        (l.cx + l.w / 2) * s.width,
        (l.cy + l.h / 2) * s.height,
      );
    }
    ev.add({ boxes, conf: lines.map((l) => l.conf!), cls: lines.map((l) => l.cls) }, (opts.truthOf ?? groundTruth)(s));
  }
  return ev.result();
}
