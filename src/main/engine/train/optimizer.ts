/**
 * SGD with Nesterov momentum as YOLOv5 v7.0 train.py uses it: smart_optimizer's three parameter
 * groups (biases and BatchNorm weights without decay, other weights with decay), gradient
 * accumulation, clip_grad_norm_(max_norm=10) on the accumulated gradients, and torch.optim.SGD's
 * update (d = g + wd p; b = mu b + d, b = d on the first step; d = d + mu b; p -= lr d).
 *
 * Written with plain tf ops rather than tf.train.momentum, whose update differs from PyTorch and
 * whose slots are keyed by variable position. One optimizer per list of trainable variables:
 * frozen parameters are simply not given to it and are never touched.
 */
import * as tf from '@tensorflow/tfjs';
import type { HostTensor, NamedTensors } from '../host-tensor.js';
import { hwioToOihw, oihwToHwio } from '../model/init.js';
import type { GroupLr, ParamGroup } from './schedule.js';
import { FreezeLabError } from '../../../shared/result.js';

/** A parameter the optimizer updates: its PyTorch name, variable, and PyTorch shape. */
export interface OptimParam {
  readonly name: string;
  readonly variable: tf.Variable;
  /** PyTorch shape (OIHW for conv weights, while the variable holds HWIO). */
  readonly torchShape: readonly number[];
}

/** Options of {@link YoloSgd}. */
export interface SgdOptions {
  /** Decay of the `weight` group, already scaled by batch * accumulate / 64 (scaledWeightDecay). */
  readonly weightDecay: number;
  /** Global gradient-norm clip (train.py: 10.0); 0 or Infinity disables. */
  readonly maxGradNorm?: number;
  /** Nesterov momentum (YOLOv5: true). */
  readonly nesterov?: boolean;
}

/** Per-step settings (from TrainSchedule.settings). */
export interface StepSettings {
  readonly lr: GroupLr;
  readonly momentum: number;
}

/** What a step did. */
export interface StepReport {
  /** Global L2 norm of the accumulated gradients before clipping. */
  readonly gradNorm: number;
  /** Factor the gradients were multiplied by (1 when not clipped). */
  readonly clipCoef: number;
}

/** Optimizer state for checkpoints: momentum buffers by parameter name in PyTorch layout. */
export interface OptimizerState {
  /** Optimizer steps taken. */
  readonly steps: number;
  readonly momentum: NamedTensors;
}

/** The smart_optimizer group of a parameter, by name: `.bias`, BatchNorm `.bn.weight`, other weights. */
export function paramGroupOf(name: string): ParamGroup {
  if (name.endsWith('.bias')) return 'bias';
  if (name.endsWith('.bn.weight')) return 'bn';
  return 'weight';
}

/** Thrown when imported optimizer state does not fit the parameters (another model or freeze). */
export class OptimizerStateError extends FreezeLabError {
  constructor(message: string) {
    super('bad-file', message);
    this.name = 'OptimizerStateError';
  }
}

/** YOLOv5's SGD over a fixed list of trainable parameters. */
export class YoloSgd {
  readonly params: readonly OptimParam[];
  readonly groups: ReadonlyMap<string, ParamGroup>;
  private readonly byVariable = new Map<string, OptimParam>();
  private readonly accum = new Map<string, tf.Variable>();
  private readonly buffers = new Map<string, tf.Variable>();
  private pendingBatches = 0;
  private stepCount = 0;

  constructor(
    params: Iterable<OptimParam>,
    readonly options: SgdOptions,
  ) {
    this.params = [...params];
    const groups = new Map<string, ParamGroup>();
    for (const p of this.params) {
      if (groups.has(p.name)) throw new Error(`YoloSgd: parameter ${p.name} given twice`);
      groups.set(p.name, paramGroupOf(p.name));
      this.byVariable.set(p.variable.name, p);
    }
    this.groups = groups;
  }

  /** Number of parameters per group (for the log line YOLOv5 prints). */
  groupCounts(): Record<ParamGroup, number> {
    const out: Record<ParamGroup, number> = { bias: 0, weight: 0, bn: 0 };
    for (const g of this.groups.values()) out[g]++;
    return out;
  }

  /** Optimizer steps taken so far. */
  get steps(): number {
    return this.stepCount;
  }

  /** Batches accumulated since the last step. */
  get pending(): number {
    return this.pendingBatches;
  }

  /**
   * Adds one batch's gradients (as tf.variableGrads returns them, keyed by variable name; the
   * caller keeps ownership). Gradients of variables this optimizer does not hold are an error.
   */
  accumulate(grads: tf.NamedTensorMap): void {
    tf.tidy(() => {
      for (const [varName, g] of Object.entries(grads)) {
        const p = this.byVariable.get(varName);
        if (!p) throw new Error(`YoloSgd: gradient for ${varName}, which is not a parameter of this optimizer`);
        const acc = this.accum.get(p.name);
        if (acc) acc.assign(tf.add(acc, g));
        else this.accum.set(p.name, tf.variable(g, false));
      }
    });
    this.pendingBatches++;
  }

  /** Clips the accumulated gradients by global norm, applies SGD, and clears the accumulation. */
  step(s: StepSettings): StepReport {
    const maxNorm = this.options.maxGradNorm ?? 10.0;
    const nesterov = this.options.nesterov ?? true;
    const wd = this.options.weightDecay;
    const mu = s.momentum;
    const present = this.params.filter((p) => this.accum.has(p.name));
    // torch clip_grad_norm_: total = ||all grads||_2, coef = min(max_norm / (total + 1e-6), 1)
    const norm = tf.tidy(() => {
      if (present.length === 0) return 0;
      const sq = present.map((p) => tf.sum(tf.square(this.accum.get(p.name) as tf.Variable)));
      return Math.sqrt(tf.addN(sq).dataSync()[0] ?? 0);
    });
    const clipCoef = maxNorm > 0 && Number.isFinite(maxNorm) ? Math.min(maxNorm / (norm + 1e-6), 1) : 1;
    tf.tidy(() => {
      for (const p of present) {
        const group = this.groups.get(p.name) ?? 'weight';
        const lr = s.lr[group];
        const acc = this.accum.get(p.name) as tf.Variable;
        let d: tf.Tensor = clipCoef < 1 ? tf.mul(acc, clipCoef) : acc;
        if (group === 'weight' && wd !== 0) d = tf.add(d, tf.mul(p.variable, wd));
        if (mu !== 0) {
          const buf = this.buffers.get(p.name);
          let b: tf.Tensor;
          if (buf) {
            b = tf.add(tf.mul(buf, mu), d);
            buf.assign(b);
          } else {
            b = d;
            this.buffers.set(p.name, tf.variable(d, false));
          }
          d = nesterov ? tf.add(d, tf.mul(b, mu)) : b;
        }
        p.variable.assign(tf.sub(p.variable, tf.mul(d, lr)));
      }
    });
    this.zeroGrad();
    this.stepCount++;
    return { gradNorm: norm, clipCoef };
  }

  /** Drops the accumulated gradients (optimizer.zero_grad). */
  zeroGrad(): void {
    for (const v of this.accum.values()) v.dispose();
    this.accum.clear();
    this.pendingBatches = 0;
  }

  /** Momentum buffers (PyTorch names and layout) and the step count, for a checkpoint. */
  exportState(): OptimizerState {
    const momentum: NamedTensors = new Map();
    for (const p of this.params) {
      const b = this.buffers.get(p.name);
      if (!b) continue;
      const data = b.dataSync() as Float32Array;
      const shape = [...p.torchShape];
      momentum.set(p.name, {
        dtype: 'float32',
        shape,
        data: shape.length === 4 ? hwioToOihw(data, shape) : Float32Array.from(data),
      });
    }
    return { steps: this.stepCount, momentum };
  }

  /**
   * Restores a state from {@link exportState}. Buffers of parameters this optimizer does not hold
   * are ignored (e.g. resuming with more frozen modules); a shape mismatch throws.
   */
  importState(state: OptimizerState): void {
    for (const [name, host] of state.momentum) {
      const p = this.params.find((q) => q.name === name);
      if (!p) continue;
      const value = this.toVariableLayout(p, host);
      const existing = this.buffers.get(name);
      if (existing) {
        existing.assign(value);
        value.dispose();
      } else {
        this.buffers.set(name, tf.variable(value, false));
        value.dispose();
      }
    }
    this.stepCount = state.steps;
  }

  /**
   * Gradients accumulated since the last step (PyTorch layout), so a checkpoint taken between
   * optimizer steps resumes exactly (YOLOv5 drops them; FreezeLab promises bit-identical resume).
   */
  exportPending(): { readonly batches: number; readonly grads: NamedTensors } {
    const grads: NamedTensors = new Map();
    for (const p of this.params) {
      const a = this.accum.get(p.name);
      if (!a) continue;
      const data = a.dataSync() as Float32Array;
      const shape = [...p.torchShape];
      grads.set(p.name, {
        dtype: 'float32',
        shape,
        data: shape.length === 4 ? hwioToOihw(data, shape) : Float32Array.from(data),
      });
    }
    return { batches: this.pendingBatches, grads };
  }

  /** Restores what {@link exportPending} saved (replacing any current accumulation). */
  importPending(pending: { readonly batches: number; readonly grads: NamedTensors }): void {
    this.zeroGrad();
    for (const [name, host] of pending.grads) {
      const p = this.params.find((q) => q.name === name);
      if (!p) continue;
      const value = this.toVariableLayout(p, host);
      this.accum.set(name, tf.variable(value, false));
      value.dispose();
    }
    this.pendingBatches = pending.batches;
  }

  /** Frees the momentum and accumulation buffers (not the parameters). */
  dispose(): void {
    this.zeroGrad();
    for (const v of this.buffers.values()) v.dispose();
    this.buffers.clear();
  }

  private toVariableLayout(p: OptimParam, host: HostTensor): tf.Tensor {
    const same = host.shape.length === p.torchShape.length && host.shape.every((d, i) => d === p.torchShape[i]);
    if (!same || host.dtype !== 'float32' || !(host.data instanceof Float32Array)) {
      throw new OptimizerStateError(
        `momentum buffer ${p.name}: saved ${host.dtype} [${host.shape.join(', ')}], ` +
          `parameter is float32 [${p.torchShape.join(', ')}]; the checkpoint belongs to another model`,
      );
    }
    const data = p.torchShape.length === 4 ? oihwToHwio(host.data, p.torchShape) : host.data;
    return tf.tensor(data, p.variable.shape, 'float32');
  }
}

/** The optimizer's parameters from a model's `params` map, minus the frozen ones. */
export function trainableParams(
  params: ReadonlyMap<string, { readonly variable: tf.Variable; readonly torchShape: readonly number[] }>,
  isFrozen: (name: string) => boolean,
): OptimParam[] {
  const out: OptimParam[] = [];
  for (const [name, t] of params) {
    if (!isFrozen(name)) out.push({ name, variable: t.variable, torchShape: t.torchShape });
  }
  return out;
}
