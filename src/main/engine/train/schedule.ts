/**
 * Learning-rate, momentum and gradient-accumulation schedule of YOLOv5 v7.0 train.py: LambdaLR with
 * the linear or one_cycle (cosine) lf per epoch, a warmup over max(round(warmup_epochs * nb), 100)
 * iterations (np.interp: bias lr from warmup_bias_lr, other lrs from 0, momentum from
 * warmup_momentum), and accumulation to a nominal batch of 64 that ramps up during warmup.
 */
import type { Hyp } from '../../../shared/hyp.js';
import { roundHalfEven } from '../eval/numpy.js';

/** YOLOv5's nominal batch size (train.py `nbs`). */
export const NOMINAL_BATCH = 64;

/** Parameter groups of train.py smart_optimizer (v7.0 order: biases are param_groups[0]). */
export type ParamGroup = 'bias' | 'weight' | 'bn';

/** Learning rate per parameter group. */
export type GroupLr = Readonly<Record<ParamGroup, number>>;

/** np.interp(x, [x0, x1], [y0, y1]), clamped to the end values outside [x0, x1]. */
export function interp(x: number, x0: number, x1: number, y0: number, y1: number): number {
  if (x <= x0) return y0;
  if (x >= x1) return y1;
  return y0 + ((x - x0) * (y1 - y0)) / (x1 - x0);
}

/** Steps to accumulate: max(round(nbs / batch), 1). */
export function nominalAccumulate(batchSize: number, nbs = NOMINAL_BATCH): number {
  return Math.max(roundHalfEven(nbs / batchSize), 1);
}

/** Weight decay as train.py scales it: hyp weight_decay * batch * accumulate / nbs. */
export function scaledWeightDecay(weightDecay: number, batchSize: number, nbs = NOMINAL_BATCH): number {
  return (weightDecay * batchSize * nominalAccumulate(batchSize, nbs)) / nbs;
}

/** Warmup length in iterations: max(round(warmup_epochs * nb), 100). */
export function warmupIterations(warmupEpochs: number, batchesPerEpoch: number): number {
  return Math.max(roundHalfEven(warmupEpochs * batchesPerEpoch), 100);
}

/**
 * The lr multiplier per epoch: linear `(1 - x/epochs)(1 - lrf) + lrf`, or with `cosine`
 * utils/general.py one_cycle(1, lrf, epochs) = `((1 - cos(x pi / epochs)) / 2)(lrf - 1) + 1`.
 */
export function lrLambda(epochs: number, lrf: number, cosine = false): (epoch: number) => number {
  if (cosine) return (x) => ((1 - Math.cos((x * Math.PI) / epochs)) / 2) * (lrf - 1) + 1;
  return (x) => (1 - x / epochs) * (1.0 - lrf) + lrf;
}

/** What the schedule needs from the run. */
export interface ScheduleConfig {
  readonly hyp: Pick<Hyp, 'lr0' | 'lrf' | 'momentum' | 'warmup_epochs' | 'warmup_momentum' | 'warmup_bias_lr'>;
  readonly epochs: number;
  /** Batches per epoch (len(train_loader)). */
  readonly batchesPerEpoch: number;
  readonly batchSize: number;
  /** train.py `--cos-lr`. */
  readonly cosine?: boolean;
  readonly nbs?: number;
}

/** Optimizer settings for one iteration. */
export interface IterationSettings {
  /** Global iteration number ni = i + nb * epoch. */
  readonly ni: number;
  readonly lr: GroupLr;
  readonly momentum: number;
  /** Batches accumulated per optimizer step at this iteration. */
  readonly accumulate: number;
  readonly warmup: boolean;
}

/**
 * The schedule of a run. Call {@link settings} for each batch, then {@link shouldStep} after its
 * backward pass to know whether to run the optimizer (train.py `ni - last_opt_step >= accumulate`).
 */
export class TrainSchedule {
  readonly warmupIters: number;
  readonly baseAccumulate: number;
  private readonly lf: (epoch: number) => number;
  private lastOptStep = -1;

  constructor(readonly cfg: ScheduleConfig) {
    this.warmupIters = warmupIterations(cfg.hyp.warmup_epochs, cfg.batchesPerEpoch);
    this.baseAccumulate = nominalAccumulate(cfg.batchSize, cfg.nbs);
    this.lf = lrLambda(cfg.epochs, cfg.hyp.lrf, cfg.cosine ?? false);
  }

  /** lr multiplier lf(epoch) (LambdaLR: lr = lr0 * lf(epoch) outside warmup). */
  lrFactor(epoch: number): number {
    return this.lf(epoch);
  }

  /** Settings for batch `i` of `epoch` (both from 0). */
  settings(epoch: number, i: number): IterationSettings {
    const { hyp, batchSize } = this.cfg;
    const nbs = this.cfg.nbs ?? NOMINAL_BATCH;
    const ni = i + this.cfg.batchesPerEpoch * epoch;
    const target = hyp.lr0 * this.lf(epoch);
    const nw = this.warmupIters;
    if (ni <= nw) {
      const accumulate = Math.max(1, roundHalfEven(interp(ni, 0, nw, 1, nbs / batchSize)));
      const other = interp(ni, 0, nw, 0, target);
      return {
        ni,
        lr: { bias: interp(ni, 0, nw, hyp.warmup_bias_lr, target), weight: other, bn: other },
        momentum: interp(ni, 0, nw, hyp.warmup_momentum, hyp.momentum),
        accumulate,
        warmup: true,
      };
    }
    return {
      ni,
      lr: { bias: target, weight: target, bn: target },
      momentum: hyp.momentum,
      accumulate: this.baseAccumulate,
      warmup: false,
    };
  }

  /** Whether the optimizer steps after iteration `s.ni`; records the step when it does. */
  shouldStep(s: IterationSettings): boolean {
    if (s.ni - this.lastOptStep >= s.accumulate) {
      this.lastOptStep = s.ni;
      return true;
    }
    return false;
  }

  /** Iteration of the last optimizer step (-1 before the first), saved for an exact resume. */
  get lastStep(): number {
    return this.lastOptStep;
  }

  /** Resume support: train.py restarts with last_opt_step = -1 at the start epoch. */
  resetStepCounter(lastOptStep = -1): void {
    this.lastOptStep = lastOptStep;
  }
}
