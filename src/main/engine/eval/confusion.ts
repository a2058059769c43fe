/**
 * Confusion matrix, following YOLOv5 v7.0 utils/metrics.py ConfusionMatrix: rows are predicted
 * classes, columns true classes, index nc is background.
 */
import type { ConfusionMatrixData } from '../../../shared/metrics.js';
import { boxIou } from './box.js';

/** Accumulates one image at a time; detections below `conf` are ignored. */
export class ConfusionMatrix {
  readonly nc: number;
  readonly conf: number;
  readonly iou: number;
  private readonly m: Float64Array;

  constructor(nc: number, conf = 0.25, iou = 0.45) {
    this.nc = nc;
    this.conf = conf;
    this.iou = iou;
    this.m = new Float64Array((nc + 1) * (nc + 1));
  }

  private inc(pred: number, truth: number): void {
    const n = this.nc + 1;
    // Classes outside 0..nc-1 cannot be placed; they are dropped rather than corrupting the matrix.
    if (pred < 0 || pred > this.nc || truth < 0 || truth > this.nc) return;
    this.m[pred * n + truth]! += 1;
  }

  /**
   * One image. `detBoxes`/`labelBoxes` are corner boxes in the same coordinates; pass
   * `detBoxes = null` when the image has no detections (all labels count as missed).
   */
  processBatch(
    detBoxes: ArrayLike<number> | null,
    detConf: ArrayLike<number>,
    detCls: ArrayLike<number>,
    labelBoxes: ArrayLike<number>,
    labelCls: ArrayLike<number>,
  ): void {
    const nl = labelCls.length;
    if (detBoxes === null) {
      for (let l = 0; l < nl; l++) this.inc(this.nc, Math.trunc(labelCls[l]!));
      return;
    }
    const keep: number[] = [];
    for (let d = 0; d < detConf.length; d++) if (detConf[d]! > this.conf) keep.push(d);
    const nd = keep.length;
    const boxes = new Float64Array(nd * 4);
    keep.forEach((d, k) => {
      for (let c = 0; c < 4; c++) boxes[k * 4 + c] = detBoxes[d * 4 + c]!;
    });
    const dcls = keep.map((d) => Math.trunc(detCls[d]!));
    const iou = boxIou(labelBoxes, boxes, true);
    // Pairs [label, det, iou] in torch.where order (label-major).
    let pairs: [number, number, number][] = [];
    for (let l = 0; l < nl; l++) {
      for (let d = 0; d < nd; d++) {
        const v = iou[l * nd + d]!;
        if (v > this.iou) pairs.push([l, d, v]);
      }
    }
    if (pairs.length > 1) {
      pairs = uniqueFirst(sortByIouDesc(pairs), 1);
      pairs = uniqueFirst(sortByIouDesc(pairs), 0);
    }
    const n = pairs.length > 0;
    for (let l = 0; l < nl; l++) {
      const hits = pairs.filter((p) => p[0] === l);
      if (n && hits.length === 1) this.inc(dcls[hits[0]![1]]!, Math.trunc(labelCls[l]!));
      else this.inc(this.nc, Math.trunc(labelCls[l]!));
    }
    if (n) {
      for (let d = 0; d < nd; d++) {
        if (!pairs.some((p) => p[1] === d)) this.inc(dcls[d]!, this.nc);
      }
    }
  }

  /** Snapshot as plain data. */
  toData(): ConfusionMatrixData {
    return { nc: this.nc, conf: this.conf, iou: this.iou, counts: Array.from(this.m) };
  }
}

/** argsort ascending (stable) then reversed, as `matches[matches[:, 2].argsort()[::-1]]`. */
function sortByIouDesc(p: [number, number, number][]): [number, number, number][] {
  const idx = p.map((_, i) => i).sort((a, b) => p[b]![2] - p[a]![2] || b - a);
  return idx.map((i) => p[i]!);
}

/** `m[np.unique(m[:, col], return_index=True)[1]]`: first row per value, ordered by value. */
function uniqueFirst(p: [number, number, number][], col: 0 | 1): [number, number, number][] {
  const first = new Map<number, [number, number, number]>();
  for (const row of p) if (!first.has(row[col])) first.set(row[col], row);
  return [...first.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1]);
}
