/**
 * Detection metrics as plain data (no Node, no DOM): what the evaluator produces and the UI shows.
 * Figures follow YOLOv5 v7.0 val.py / utils/metrics.py.
 */

/** Metrics of one class that has ground-truth labels. */
export interface ClassMetrics {
  readonly classId: number;
  readonly name: string;
  /** Images containing at least one label of this class. */
  readonly images: number;
  /** Ground-truth instances of this class. */
  readonly instances: number;
  /** Precision at the confidence of maximum smoothed mean F1 (shared by all classes). */
  readonly precision: number;
  /** Recall at that same confidence. */
  readonly recall: number;
  readonly ap50: number;
  /** AP averaged over IoU 0.50:0.05:0.95. */
  readonly ap50_95: number;
}

/** Precision/recall curve of one class at IoU 0.5 on a common recall grid. */
export interface PrCurve {
  readonly classId: number;
  /** Precision (envelope) at each point of `EvalResult.prRecall`. */
  readonly precision: readonly number[];
}

/**
 * Confusion matrix as YOLOv5's ConfusionMatrix: `(nc + 1) x (nc + 1)`, rows = predicted class,
 * columns = true class, the last row/column is background (row nc: missed labels, column nc:
 * detections without a label). Built at `conf` and `iou` thresholds.
 */
export interface ConfusionMatrixData {
  readonly nc: number;
  readonly conf: number;
  readonly iou: number;
  /** Row-major counts, length (nc + 1)^2, index `pred * (nc + 1) + truth`. */
  readonly counts: readonly number[];
}

/** Result of evaluating detections against labels. */
export interface EvalResult {
  /** Images seen. */
  readonly images: number;
  /** Ground-truth instances over all classes. */
  readonly instances: number;
  /** Mean precision over the classes with labels. */
  readonly precision: number;
  /** Mean recall over the classes with labels. */
  readonly recall: number;
  readonly map50: number;
  readonly map50_95: number;
  /** 0.1 * mAP50 + 0.9 * mAP50-95, YOLOv5's "best checkpoint" criterion. */
  readonly fitness: number;
  /** Confidence at which P and R were read (maximum of the smoothed mean F1). */
  readonly bestConf: number;
  /** One row per class that has labels, ascending class id. */
  readonly perClass: readonly ClassMetrics[];
  /** Recall grid shared by all `prCurves`, 0..1. */
  readonly prRecall: readonly number[];
  readonly prCurves: readonly PrCurve[];
  readonly confusion: ConfusionMatrixData;
}

/** How a validation ran and what it took: `validate()` reports it, `model.val` returns it. */
export interface ValidationFigures {
  readonly split: 'val' | 'train' | 'test';
  readonly imgSize: number;
  readonly batchSize: number;
  /** Wall time of the batch loop (loading, forward, NMS, matching), without listing/scanning. */
  readonly seconds: number;
  readonly imagesPerSecond: number;
  /** Per image, ms: forward + decode + read-back, and NMS + matching (the rest is loading). */
  readonly inferenceMs: number;
  readonly nmsMs: number;
  /** Highest tensor memory seen during the forward passes (includes the weights), bytes. */
  readonly peakTensorBytes: number;
}
