/**
 * Non-maximum suppression on decoded predictions, following YOLOv5 v7.0 utils/general.py
 * non_max_suppression with torchvision.ops.nms: candidates by objectness, conf = obj * cls,
 * best class (or every class above threshold with multiLabel, as val.py), class-aware through the
 * max_wh coordinate offset, greedy by score, max_nms before and max_det after.
 */

/** Options; defaults are detect.py's (conf 0.25, IoU 0.45, max_det 1000). val.py uses conf 0.001, IoU 0.6, max_det 300, multiLabel. */
export interface NmsOptions {
  readonly confThres?: number;
  readonly iouThres?: number;
  /** Keep only these classes. */
  readonly classes?: readonly number[];
  /** One NMS over all classes instead of per class. */
  readonly agnostic?: boolean;
  /** A box may yield one detection per class whose conf > confThres (val.py). */
  readonly multiLabel?: boolean;
  readonly maxDet?: number;
  /** Boxes kept for NMS after sorting by confidence (30000). */
  readonly maxNms?: number;
}

/** Detections of one image: corner boxes [x1,y1,x2,y2] in input pixels, by score descending. */
export interface Detections {
  readonly count: number;
  readonly boxes: Float32Array;
  readonly scores: Float32Array;
  readonly classes: Int32Array;
}

/** YOLOv5's class offset (max box width/height in pixels). */
export const MAX_WH = 7680;

/**
 * NMS for one image. `pred` holds `n` rows of `5 + nc` values: cx, cy, w, h (input pixels),
 * objectness and class scores, both after sigmoid.
 */
export function nonMaxSuppression(pred: ArrayLike<number>, n: number, nc: number, opts: NmsOptions = {}): Detections {
  const confThres = opts.confThres ?? 0.25;
  const iouThres = opts.iouThres ?? 0.45;
  const maxDet = opts.maxDet ?? 1000;
  const maxNms = opts.maxNms ?? 30000;
  const multiLabel = (opts.multiLabel ?? false) && nc > 1;
  const classSet = opts.classes ? new Set(opts.classes) : null;
  const f = Math.fround;
  const stride = 5 + nc;
  // Candidates (box row, class, score); scores computed in float32 as torch does.
  const candRow: number[] = [];
  const candCls: number[] = [];
  const candScore: number[] = [];
  for (let i = 0; i < n; i++) {
    const o = i * stride;
    const obj = pred[o + 4]!;
    if (!(obj > confThres)) continue;
    if (multiLabel) {
      for (let c = 0; c < nc; c++) {
        const s = f(pred[o + 5 + c]! * obj);
        if (s > confThres && (!classSet || classSet.has(c))) {
          candRow.push(i);
          candCls.push(c);
          candScore.push(s);
        }
      }
    } else {
      // max(1): the first class wins ties.
      let best = 0;
      let bs = f(pred[o + 5]! * obj);
      for (let c = 1; c < nc; c++) {
        const s = f(pred[o + 5 + c]! * obj);
        if (s > bs) {
          bs = s;
          best = c;
        }
      }
      if (bs > confThres && (!classSet || classSet.has(best))) {
        candRow.push(i);
        candCls.push(best);
        candScore.push(bs);
      }
    }
  }
  let order = candScore.map((_, k) => k).sort((a, b) => candScore[b]! - candScore[a]! || a - b);
  if (order.length > maxNms) order = order.slice(0, maxNms);
  const m = order.length;
  // Boxes in xyxy, plus the class offset (float32 like torch, so large offsets round the same way).
  const bx = new Float32Array(m * 4);
  const ob = new Float32Array(m * 4);
  const area = new Float32Array(m);
  const buckets = new Map<number, number[]>();
  for (let k = 0; k < m; k++) {
    const c = order[k]!;
    const o = candRow[c]! * stride;
    const cx = pred[o]!;
    const cy = pred[o + 1]!;
    const hw = f(pred[o + 2]! / 2);
    const hh = f(pred[o + 3]! / 2);
    bx[k * 4] = cx - hw;
    bx[k * 4 + 1] = cy - hh;
    bx[k * 4 + 2] = cx + hw;
    bx[k * 4 + 3] = cy + hh;
    const cls = opts.agnostic ? 0 : candCls[c]!;
    const off = cls * MAX_WH;
    for (let j = 0; j < 4; j++) ob[k * 4 + j] = bx[k * 4 + j]! + off;
    area[k] = f(f(ob[k * 4 + 2]! - ob[k * 4]!) * f(ob[k * 4 + 3]! - ob[k * 4 + 1]!));
    // Offsets make boxes of different classes disjoint, so NMS per class bucket is the same thing, faster.
    let b = buckets.get(cls);
    if (!b) buckets.set(cls, (b = []));
    b.push(k);
  }
  const keep = new Uint8Array(m);
  for (const idx of buckets.values()) {
    const suppressed = new Uint8Array(idx.length);
    for (let a = 0; a < idx.length; a++) {
      if (suppressed[a]) continue;
      const i = idx[a]!;
      keep[i] = 1;
      const x1 = ob[i * 4]!;
      const y1 = ob[i * 4 + 1]!;
      const x2 = ob[i * 4 + 2]!;
      const y2 = ob[i * 4 + 3]!;
      const ai = area[i]!;
      for (let b = a + 1; b < idx.length; b++) {
        if (suppressed[b]) continue;
        const j = idx[b]!;
        const w = f(Math.min(x2, ob[j * 4 + 2]!) - Math.max(x1, ob[j * 4]!));
        const h = f(Math.min(y2, ob[j * 4 + 3]!) - Math.max(y1, ob[j * 4 + 1]!));
        if (w <= 0 || h <= 0) continue;
        const inter = f(w * h);
        // torchvision nms: IoU = inter / (area_i + area_j - inter), suppress when > threshold.
        if (f(inter / f(f(ai + area[j]!) - inter)) > iouThres) suppressed[b] = 1;
      }
    }
  }
  const kept: number[] = [];
  for (let k = 0; k < m && kept.length < maxDet; k++) if (keep[k]) kept.push(k);
  const out: Detections = {
    count: kept.length,
    boxes: new Float32Array(kept.length * 4),
    scores: new Float32Array(kept.length),
    classes: new Int32Array(kept.length),
  };
  kept.forEach((k, r) => {
    out.boxes.set(bx.subarray(k * 4, k * 4 + 4), r * 4);
    out.scores[r] = candScore[order[k]!]!;
    out.classes[r] = candCls[order[k]!]!;
  });
  return out;
}

/**
 * YOLOv5 scale_boxes + clip_boxes: boxes from the letterboxed input shape [h, w] back to the
 * original image shape [h, w], in place. `ratioPad` ([gain, [padX, padY]]) overrides the gain and
 * padding derived from the shapes (pass the letterbox's ratio and pad when they are known).
 */
export function scaleBoxes(
  inputShape: readonly [number, number],
  boxes: Float32Array | Float64Array,
  originalShape: readonly [number, number],
  ratioPad?: readonly [number, readonly [number, number]],
): void {
  const [h0, w0] = originalShape;
  const gain = ratioPad ? ratioPad[0] : Math.min(inputShape[0] / h0, inputShape[1] / w0);
  const padX = ratioPad ? ratioPad[1][0] : (inputShape[1] - w0 * gain) / 2;
  const padY = ratioPad ? ratioPad[1][1] : (inputShape[0] - h0 * gain) / 2;
  for (let i = 0; i + 3 < boxes.length; i += 4) {
    boxes[i] = clamp((boxes[i]! - padX) / gain, w0);
    boxes[i + 1] = clamp((boxes[i + 1]! - padY) / gain, h0);
    boxes[i + 2] = clamp((boxes[i + 2]! - padX) / gain, w0);
    boxes[i + 3] = clamp((boxes[i + 3]! - padY) / gain, h0);
  }
}

function clamp(v: number, hi: number): number {
  return v < 0 ? 0 : v > hi ? hi : v;
}
