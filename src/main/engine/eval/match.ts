/**
 * Detection-to-label matching per IoU threshold, exactly as YOLOv5 v7.0 val.py `process_batch`.
 */
import { boxIou } from './box.js';

/**
 * The ten IoU thresholds 0.50:0.05:0.95 as float32 values (YOLOv5 builds them with
 * `torch.linspace(0.5, 0.95, 10)` in float32 and compares float32 IoUs against them).
 */
export const IOU_THRESHOLDS: readonly number[] = Array.from({ length: 10 }, (_, i) => Math.fround(0.5 + i * 0.05));

/**
 * Which detections are true positives at each IoU threshold.
 *
 * Follows YOLOv5 v7.0 val.py process_batch: for each threshold, candidate pairs are those with
 * IoU >= t and the same class; they are sorted by IoU descending, each detection keeps its first
 * (highest-IoU) pair, and then - because `np.unique` reorders the rows by detection index - each
 * label keeps the pair with the lowest detection index (the most confident one, detections being
 * in NMS order). The detection order given here therefore matters, as it does in YOLOv5.
 *
 * @param detBoxes corner boxes [x1,y1,x2,y2] per detection, in NMS (confidence-descending) order
 * @param detCls class per detection
 * @param labelBoxes corner boxes per label, same coordinate system as detBoxes
 * @param labelCls class per label
 * @returns `correct[d * thresholds.length + k]` = 1 when detection d is a TP at threshold k
 */
export function matchDetections(
  detBoxes: ArrayLike<number>,
  detCls: ArrayLike<number>,
  labelBoxes: ArrayLike<number>,
  labelCls: ArrayLike<number>,
  thresholds: readonly number[] = IOU_THRESHOLDS,
): Uint8Array {
  const nd = detCls.length;
  const nl = labelCls.length;
  const nt = thresholds.length;
  const correct = new Uint8Array(nd * nt);
  if (nd === 0 || nl === 0) return correct;
  // torch computes IoU in float32; emulate it so that ">= threshold" ties resolve as they do there.
  const iou = boxIou(labelBoxes, detBoxes, true);
  const pairL: number[] = [];
  const pairD: number[] = [];
  const pairIou: number[] = [];
  const bestLabelOfDet = new Int32Array(nd);
  const winnerOfLabel = new Int32Array(nl);
  for (let k = 0; k < nt; k++) {
    const t = thresholds[k]!;
    pairL.length = 0;
    pairD.length = 0;
    pairIou.length = 0;
    // Row-major like torch.where: label ascending, then detection ascending.
    for (let l = 0; l < nl; l++) {
      for (let d = 0; d < nd; d++) {
        const v = iou[l * nd + d]!;
        if (v >= t && labelCls[l] === detCls[d]) {
          pairL.push(l);
          pairD.push(d);
          pairIou.push(v);
        }
      }
    }
    const np = pairL.length;
    if (np === 0) continue;
    if (np === 1) {
      correct[pairD[0]! * nt + k] = 1;
      continue;
    }
    // argsort ascending (stable for ties) then reversed: IoU descending, ties by later pair first.
    const order = Array.from({ length: np }, (_, i) => i);
    order.sort((a, b) => pairIou[b]! - pairIou[a]! || b - a);
    // Each detection keeps its first pair in that order (np.unique(return_index) keeps the first).
    bestLabelOfDet.fill(-1);
    for (const p of order) {
      const d = pairD[p]!;
      if (bestLabelOfDet[d] === -1) bestLabelOfDet[d] = pairL[p]!;
    }
    // Rows are now in detection order; each label keeps its first (lowest-index) detection.
    winnerOfLabel.fill(-1);
    for (let d = 0; d < nd; d++) {
      const l = bestLabelOfDet[d]!;
      if (l !== -1 && winnerOfLabel[l] === -1) winnerOfLabel[l] = d;
    }
    for (let l = 0; l < nl; l++) {
      const d = winnerOfLabel[l]!;
      if (d !== -1) correct[d * nt + k] = 1;
    }
  }
  return correct;
}
