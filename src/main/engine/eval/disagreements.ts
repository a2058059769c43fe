/**
 * Predictions against labels for one image: TP/FP/FN at IoU 0.5 with val's matching, and where the
 * model and the labels disagree (missed labels, unlabelled confident predictions, class confusions).
 *
 * Matching is val's (match.ts, YOLOv5 val.py process_batch) at the 0.5 threshold, run on every
 * detection val keeps (conf 0.001 by default, NMS order); counts are then taken over the displayed
 * detections, those with conf >= the display threshold. Detections are in confidence-descending
 * order, so the displayed ones are a prefix, and in val's matching a detection's fate never depends
 * on the detections after it: the TP flags of the prefix are exactly val's flags at 0.5.
 *
 * Disagreement rules (over the displayed detections):
 * - class confusion: a non-TP detection with IoU >= 0.5 with a label of another class that no TP
 *   matched; detections taken by confidence, each paired with its highest-IoU such label, each label
 *   paired once (a candidate wrong label);
 * - missed: a label no TP matched and no confusion explains (the model misses it);
 * - unlabelled: a non-TP detection with conf >= `confident` whose IoU with every label, of any class,
 *   is below 0.5 (a candidate missing annotation).
 * Other false positives (duplicates of a matched label, poorly placed boxes, low confidence) count
 * in FP but are not listed.
 *
 * Score (orders images, see DISAGREEMENT_SCORE_RULE): 1 per missed label, plus the confidence of each
 * unlabelled detection and of each confusing detection.
 */
import type { Disagreement, PixelBox } from '../../../shared/commands/predictions.js';
import { boxIou } from './box.js';
import { IOU_THRESHOLDS, matchDetections } from './match.js';

/** The IoU at which predictions and labels are compared (val's first threshold, float32 0.5). */
export const MATCH_IOU = IOU_THRESHOLDS[0]!;

/** Detections of one image, corner boxes [x1,y1,x2,y2] flat, in NMS (confidence-descending) order. */
export interface CornerDetections {
  readonly boxes: ArrayLike<number>;
  readonly conf: ArrayLike<number>;
  readonly cls: ArrayLike<number>;
}

/** Labels of one image, corner boxes flat in the detections' coordinates, with their file lines. */
export interface CornerLabels {
  readonly boxes: ArrayLike<number>;
  readonly cls: ArrayLike<number>;
  /** 1-based line of each label in its file (absent: 0). */
  readonly lines?: ArrayLike<number>;
}

export interface CompareOptions {
  /** Display confidence: detections below it are neither counted nor listed (0.25). */
  readonly conf?: number;
  /** Confidence an unlabelled detection needs to be listed (0.5). */
  readonly confident?: number;
}

/** What one image's comparison gives. */
export interface ImageComparison {
  /** Detections displayed (conf >= display threshold): a prefix of the input. */
  readonly shown: number;
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
  /** Per displayed detection: 1 when val's matcher marks it correct at IoU 0.5. */
  readonly correct: Uint8Array;
  /** Per label: index of the displayed detection matching it, or -1. */
  readonly matchedBy: Int32Array;
  readonly disagreements: Disagreement[];
  readonly score: number;
}

const box = (b: ArrayLike<number>, i: number): PixelBox => ({
  x: b[i * 4]!,
  y: b[i * 4 + 1]!,
  w: b[i * 4 + 2]! - b[i * 4]!,
  h: b[i * 4 + 3]! - b[i * 4 + 1]!,
});

/**
 * Which label each detection is matched to at one IoU threshold: the assignment behind
 * matchDetections' flags (same pairs, same order of preference), so that missed labels can be named.
 * `labelOf[d]` is -1 for an unmatched detection.
 */
export function assignAt(
  iou: ArrayLike<number>,
  detCls: ArrayLike<number>,
  labelCls: ArrayLike<number>,
  threshold: number = MATCH_IOU,
): { labelOf: Int32Array; detOf: Int32Array } {
  const nd = detCls.length;
  const nl = labelCls.length;
  const labelOf = new Int32Array(nd).fill(-1);
  const detOf = new Int32Array(nl).fill(-1);
  const pairs: { l: number; d: number; v: number; i: number }[] = [];
  for (let l = 0; l < nl; l++) {
    for (let d = 0; d < nd; d++) {
      const v = iou[l * nd + d]!;
      if (v >= threshold && labelCls[l] === detCls[d]) pairs.push({ l, d, v, i: pairs.length });
    }
  }
  // IoU descending, ties by later pair first; each detection keeps its first pair; each label its
  // lowest-index detection (as match.ts, after np.unique's reordering).
  pairs.sort((a, b) => b.v - a.v || b.i - a.i);
  const best = new Int32Array(nd).fill(-1);
  for (const p of pairs) if (best[p.d] === -1) best[p.d] = p.l;
  for (let d = 0; d < nd; d++) {
    const l = best[d]!;
    if (l !== -1 && detOf[l] === -1) detOf[l] = d;
  }
  for (let l = 0; l < nl; l++) if (detOf[l]! !== -1) labelOf[detOf[l]!] = l;
  return { labelOf, detOf };
}

/** Compares one image's detections (all val kept, NMS order) with its labels. */
export function compareImage(dets: CornerDetections, labels: CornerLabels, opts: CompareOptions = {}): ImageComparison {
  const displayConf = opts.conf ?? 0.25;
  const confident = opts.confident ?? 0.5;
  const nd = dets.conf.length;
  const nl = labels.cls.length;
  let shown = 0;
  while (shown < nd && dets.conf[shown]! >= displayConf) shown++;
  for (let d = shown; d < nd; d++) {
    if (dets.conf[d]! >= displayConf)
      throw new Error('compareImage: detections must be in confidence-descending order');
  }
  // val's own flags at 0.5 over every detection val keeps; the displayed ones are a prefix.
  const flags = matchDetections(dets.boxes, dets.cls, labels.boxes, labels.cls, [MATCH_IOU]);
  const iou = boxIou(labels.boxes, dets.boxes, true);
  const { labelOf } = assignAt(iou, dets.cls, labels.cls);
  const correct = new Uint8Array(shown);
  const matchedBy = new Int32Array(nl).fill(-1);
  for (let d = 0; d < shown; d++) {
    correct[d] = flags[d]!;
    if (flags[d] !== (labelOf[d]! !== -1 ? 1 : 0))
      throw new Error('compareImage: assignment disagrees with val matching');
    if (labelOf[d]! !== -1) matchedBy[labelOf[d]!] = d;
  }
  const tp = correct.reduce((a, b) => a + b, 0);
  const line = (l: number): number => labels.lines?.[l] ?? 0;
  const confusions: Disagreement[] = [];
  const unlabelled: Disagreement[] = [];
  const confusedLabel = new Uint8Array(nl);
  for (let d = 0; d < shown; d++) {
    if (correct[d]) continue;
    let bestL = -1;
    let bestIou = -1;
    let maxIou = 0;
    for (let l = 0; l < nl; l++) {
      const v = iou[l * nd + d]!;
      if (v > maxIou) maxIou = v;
      if (v >= MATCH_IOU && labels.cls[l] !== dets.cls[d] && matchedBy[l] === -1 && !confusedLabel[l] && v > bestIou) {
        bestL = l;
        bestIou = v;
      }
    }
    const conf = dets.conf[d]!;
    if (bestL !== -1) {
      confusedLabel[bestL] = 1;
      confusions.push({
        kind: 'confusion',
        cls: labels.cls[bestL]!,
        predCls: dets.cls[d]!,
        conf,
        iou: bestIou,
        line: line(bestL),
        box: box(labels.boxes, bestL),
        predBox: box(dets.boxes, d),
      });
    } else if (maxIou < MATCH_IOU && conf >= confident) {
      unlabelled.push({ kind: 'unlabelled', cls: dets.cls[d]!, conf, box: box(dets.boxes, d) });
    }
  }
  const missed: Disagreement[] = [];
  for (let l = 0; l < nl; l++) {
    if (matchedBy[l] === -1 && !confusedLabel[l]) {
      missed.push({ kind: 'missed', cls: labels.cls[l]!, line: line(l), box: box(labels.boxes, l) });
    }
  }
  const disagreements = [...missed, ...unlabelled, ...confusions];
  const score = disagreementScore(disagreements);
  return { shown, tp, fp: shown - tp, fn: nl - tp, correct, matchedBy, disagreements, score };
}

/** 1 per missed label, plus the confidence of each unlabelled and each confusing detection. */
export function disagreementScore(d: readonly Disagreement[]): number {
  return d.reduce((s, x) => s + (x.kind === 'missed' ? 1 : (x.conf ?? 0)), 0);
}

/** Disagreements first (score descending), then by fp + fn descending, then by name. */
export function disagreementOrder<T extends { score: number; fp: number; fn: number; name: string }>(
  images: readonly T[],
): T[] {
  return [...images].sort(
    (a, b) =>
      b.score - a.score || b.fp + b.fn - (a.fp + a.fn) || a.name.localeCompare(b.name, undefined, { numeric: true }),
  );
}
