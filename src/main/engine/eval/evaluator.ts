/**
 * Incremental detection evaluator: feed one image at a time (the trainer feeds batches), then read
 * YOLOv5-identical P, R, mAP50, mAP50-95, per-class figures, PR curves and the confusion matrix.
 * Follows YOLOv5 v7.0 val.py (the per-image loop and the final ap_per_class call).
 */
import type { ClassMetrics, EvalResult } from '../../../shared/metrics.js';
import { apPerClass } from './ap.js';
import { ConfusionMatrix } from './confusion.js';
import { IOU_THRESHOLDS, matchDetections } from './match.js';

/** Detections of one image: corner boxes [x1,y1,x2,y2] flat, in NMS order (confidence descending). */
export interface ImageDetections {
  readonly boxes: ArrayLike<number>;
  readonly conf: ArrayLike<number>;
  readonly cls: ArrayLike<number>;
}

/** Ground truth of one image: corner boxes flat, same coordinates as the detections. */
export interface ImageLabels {
  readonly boxes: ArrayLike<number>;
  readonly cls: ArrayLike<number>;
}

/** Options of `Evaluator`. */
export interface EvaluatorOptions {
  /** Number of classes of the dataset. */
  readonly nc: number;
  /** Class names (index = class id); missing names show as the id. */
  readonly names?: readonly string[];
  /** Confusion matrix thresholds (YOLOv5: conf 0.25, IoU 0.45). */
  readonly confusionConf?: number;
  readonly confusionIou?: number;
  /** Points of the recall grid for the PR curves (default 101). */
  readonly prPoints?: number;
}

/** Growable byte/float buffers so that adding thousands of images stays linear. */
class Grow<T extends Float64Array | Uint8Array> {
  data: T;
  length = 0;
  constructor(private readonly make: (n: number) => T) {
    this.data = make(1024);
  }
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = this.make(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  view(): T {
    return this.data.subarray(0, this.length) as T;
  }
}

/** Accumulates per-image matches and computes the final metrics. */
export class Evaluator {
  private readonly opts: EvaluatorOptions;
  private readonly nIou = IOU_THRESHOLDS.length;
  private readonly tp = new Grow((n) => new Uint8Array(n));
  private readonly conf = new Grow((n) => new Float64Array(n));
  private readonly predCls = new Grow((n) => new Float64Array(n));
  private readonly targetCls = new Grow((n) => new Float64Array(n));
  private readonly imagesWithClass = new Map<number, number>();
  private readonly confusion: ConfusionMatrix;
  private seen = 0;

  constructor(opts: EvaluatorOptions) {
    this.opts = opts;
    this.confusion = new ConfusionMatrix(opts.nc, opts.confusionConf ?? 0.25, opts.confusionIou ?? 0.45);
  }

  /** Adds one image. Detections and labels must use the same box coordinates (pixels or normalized). */
  add(dets: ImageDetections, labels: ImageLabels): void {
    this.seen++;
    const nd = dets.conf.length;
    const nl = labels.cls.length;
    for (let l = 0; l < nl; l++) this.targetCls.push(labels.cls[l]!);
    for (const c of new Set(Array.from(labels.cls))) {
      this.imagesWithClass.set(c, (this.imagesWithClass.get(c) ?? 0) + 1);
    }
    if (nd === 0) {
      // val.py: no detections -> labels only (all missed), confusion matrix counts them as background.
      if (nl) this.confusion.processBatch(null, [], [], labels.boxes, labels.cls);
      return;
    }
    const correct = matchDetections(dets.boxes, dets.cls, labels.boxes, labels.cls);
    if (nl) this.confusion.processBatch(dets.boxes, dets.conf, dets.cls, labels.boxes, labels.cls);
    for (let i = 0; i < correct.length; i++) this.tp.push(correct[i]!);
    for (let d = 0; d < nd; d++) {
      this.conf.push(dets.conf[d]!);
      this.predCls.push(dets.cls[d]!);
    }
  }

  /** Images added so far. */
  get images(): number {
    return this.seen;
  }

  /** Computes the metrics over everything added so far (does not reset). */
  result(): EvalResult {
    const res = apPerClass(
      {
        tp: this.tp.view(),
        nIou: this.nIou,
        conf: this.conf.view(),
        predCls: this.predCls.view(),
        targetCls: this.targetCls.view(),
      },
      this.opts.prPoints ?? 101,
    );
    const names = this.opts.names ?? [];
    const perClass: ClassMetrics[] = res.classes.map((c, i) => {
      const ap = res.ap[i]!;
      return {
        classId: c,
        name: names[c] ?? String(c),
        images: this.imagesWithClass.get(c) ?? 0,
        instances: res.nt[i]!,
        precision: res.p[i]!,
        recall: res.r[i]!,
        ap50: ap[0]!,
        ap50_95: mean(ap),
      };
    });
    const map50 = mean(perClass.map((c) => c.ap50));
    const map50_95 = mean(perClass.map((c) => c.ap50_95));
    return {
      images: this.seen,
      instances: this.targetCls.length,
      precision: mean(res.p),
      recall: mean(res.r),
      map50,
      map50_95,
      fitness: 0.1 * map50 + 0.9 * map50_95,
      bestConf: res.bestConf,
      perClass,
      prRecall: Array.from(res.prRecall),
      prCurves: res.classes.map((c, i) => ({ classId: c, precision: Array.from(res.prPrecision[i]!) })),
      confusion: this.confusion.toData(),
    };
  }
}

/** Mean of a list; 0 for an empty list (val.py prints 0 when there are no labels). */
function mean(v: readonly number[]): number {
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : 0;
}
