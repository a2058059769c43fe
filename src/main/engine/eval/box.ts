/**
 * Box helpers for evaluation and NMS. Boxes are flat arrays of 4 numbers per box.
 * Follows YOLOv5 utils/metrics.py box_iou and utils/general.py xywh2xyxy.
 */

/** Epsilon YOLOv5's box_iou adds to the union. */
export const IOU_EPS = 1e-7;
const F32_EPS = Math.fround(IOU_EPS);

/** Centre-size boxes [cx, cy, w, h] -> corner boxes [x1, y1, x2, y2], optionally scaled. */
export function xywh2xyxy(xywh: ArrayLike<number>, sx = 1, sy = 1): Float64Array {
  const n = Math.floor(xywh.length / 4);
  const out = new Float64Array(n * 4);
  for (let i = 0; i < n; i++) {
    const cx = xywh[i * 4]! * sx;
    const cy = xywh[i * 4 + 1]! * sy;
    const hw = (xywh[i * 4 + 2]! * sx) / 2;
    const hh = (xywh[i * 4 + 3]! * sy) / 2;
    out[i * 4] = cx - hw;
    out[i * 4 + 1] = cy - hh;
    out[i * 4 + 2] = cx + hw;
    out[i * 4 + 3] = cy + hh;
  }
  return out;
}

/** IoU of corner box `i` of `a` with corner box `j` of `b` (YOLOv5 box_iou, eps in the union). */
export function iouAt(a: ArrayLike<number>, i: number, b: ArrayLike<number>, j: number): number {
  const ax1 = a[i * 4]!;
  const ay1 = a[i * 4 + 1]!;
  const ax2 = a[i * 4 + 2]!;
  const ay2 = a[i * 4 + 3]!;
  const bx1 = b[j * 4]!;
  const by1 = b[j * 4 + 1]!;
  const bx2 = b[j * 4 + 2]!;
  const by2 = b[j * 4 + 3]!;
  const iw = Math.min(ax2, bx2) - Math.max(ax1, bx1);
  const ih = Math.min(ay2, by2) - Math.max(ay1, by1);
  const inter = (iw > 0 ? iw : 0) * (ih > 0 ? ih : 0);
  const union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter + IOU_EPS;
  return inter / union;
}

/**
 * IoU as torch computes it in float32: every input and intermediate rounded to float32. Matching
 * at IoU thresholds needs this: boxes read from 6-decimal text files land exactly on 0.75 or 0.9
 * often enough that float64 IoUs flip some ">= threshold" decisions (mAP50-95 moved by 2e-5).
 */
export function iouAt32(a: ArrayLike<number>, i: number, b: ArrayLike<number>, j: number): number {
  const f = Math.fround;
  const ax1 = f(a[i * 4]!);
  const ay1 = f(a[i * 4 + 1]!);
  const ax2 = f(a[i * 4 + 2]!);
  const ay2 = f(a[i * 4 + 3]!);
  const bx1 = f(b[j * 4]!);
  const by1 = f(b[j * 4 + 1]!);
  const bx2 = f(b[j * 4 + 2]!);
  const by2 = f(b[j * 4 + 3]!);
  const iw = f(Math.min(ax2, bx2) - Math.max(ax1, bx1));
  const ih = f(Math.min(ay2, by2) - Math.max(ay1, by1));
  const inter = f((iw > 0 ? iw : 0) * (ih > 0 ? ih : 0));
  const areaA = f(f(ax2 - ax1) * f(ay2 - ay1));
  const areaB = f(f(bx2 - bx1) * f(by2 - by1));
  const union = f(f(f(areaA + areaB) - inter) + F32_EPS);
  return f(inter / union);
}

/**
 * IoU matrix [a.length/4, b.length/4], row-major (YOLOv5 box_iou(box1=a, box2=b)); `float32`
 * emulates torch's float32 arithmetic (see `iouAt32`).
 */
export function boxIou(a: ArrayLike<number>, b: ArrayLike<number>, float32 = false): Float64Array {
  const na = Math.floor(a.length / 4);
  const nb = Math.floor(b.length / 4);
  const out = new Float64Array(na * nb);
  const at = float32 ? iouAt32 : iouAt;
  for (let i = 0; i < na; i++) {
    for (let j = 0; j < nb; j++) out[i * nb + j] = at(a, i, b, j);
  }
  return out;
}
