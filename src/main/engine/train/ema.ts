/**
 * Exponential moving average of the model weights: follows YOLOv5 v7.0 utils/torch_utils.py
 * ModelEMA (decay 0.9999 * (1 - exp(-updates / 2000)), applied after every optimizer step to every
 * floating-point state_dict entry: parameters, BatchNorm running statistics and the anchors buffer;
 * `num_batches_tracked` keeps the value it had when the EMA was created, as in YOLOv5).
 *
 * The average is itself a {@link YoloModel} (YOLOv5 keeps a deepcopy of the model), so validation
 * runs on `ema.model` directly. Its tensors live on the backend as tf.Variables rather than host
 * copies: the update is then a few fused ops per tensor with no transfer, whereas host copies would
 * download every weight after each optimizer step (costly on tfjs-node-gpu) and need an upload for
 * each validation. The price is one extra copy of the weights in backend memory (7.5 MB for
 * yolov5n, 85 MB for yolov5m: small next to the activations of a training step).
 */
import * as tf from '@tensorflow/tfjs';
import type { NamedTensors } from '../host-tensor.js';
import { YoloModel } from '../model/forward.js';

/** Options of {@link ModelEMA}. */
export interface EmaOptions {
  readonly decay?: number;
  readonly tau?: number;
  /** Updates already done (resume). */
  readonly updates?: number;
}

/** EMA state for a checkpoint: the averaged tensors (PyTorch names and layout) and the counter. */
export interface EmaState {
  readonly updates: number;
  readonly tensors: NamedTensors;
}

/** The EMA decay after `updates` updates: decay * (1 - exp(-updates / tau)). */
export function emaDecay(updates: number, decay = 0.9999, tau = 2000): number {
  return decay * (1 - Math.exp(-updates / tau));
}

/** YOLOv5's ModelEMA over a {@link YoloModel}. */
export class ModelEMA {
  /** The averaged model (use it for validation and for the `ema` entry of checkpoints). */
  readonly model: YoloModel;
  private updateCount: number;
  private readonly decay: number;
  private readonly tau: number;

  /** Starts the average from a copy of `source`'s current weights. */
  constructor(source: YoloModel, opts: EmaOptions = {}) {
    this.decay = opts.decay ?? 0.9999;
    this.tau = opts.tau ?? 2000;
    this.updateCount = opts.updates ?? 0;
    this.model = YoloModel.create(source.graph);
    this.copyFrom(source);
  }

  /** Updates done so far (ModelEMA.updates). */
  get updates(): number {
    return this.updateCount;
  }

  /** The decay the next update will use. */
  nextDecay(): number {
    return emaDecay(this.updateCount + 1, this.decay, this.tau);
  }

  /** One EMA step towards `source` (call after each optimizer step). */
  update(source: YoloModel): void {
    this.updateCount++;
    const d = emaDecay(this.updateCount, this.decay, this.tau);
    tf.tidy(() => {
      for (const [name, mine, theirs] of this.pairs(source)) {
        if (mine.dtype !== 'float32') continue;
        if (!theirs) throw new Error(`ModelEMA.update: the model has no tensor ${name}`);
        // v *= d; v += (1 - d) * msd[k]
        mine.assign(tf.add(tf.mul(mine, d), tf.mul(theirs, 1 - d)));
      }
    });
  }

  /** The averaged tensors in PyTorch names, order and layout (as YoloModel.exportTensors). */
  exportTensors(): NamedTensors {
    return this.model.exportTensors();
  }

  /** State for a checkpoint. */
  exportState(): EmaState {
    return { updates: this.updateCount, tensors: this.exportTensors() };
  }

  /** Restores a state from {@link exportState} (train.py resume: ema weights and updates). */
  importState(state: EmaState): void {
    this.model.loadTensors(state.tensors, { source: 'EMA state' });
    this.updateCount = state.updates;
  }

  /** Frees the averaged model. */
  dispose(): void {
    this.model.dispose();
  }

  private copyFrom(source: YoloModel): void {
    tf.tidy(() => {
      for (const [name, mine, theirs] of this.pairs(source)) {
        if (!theirs) throw new Error(`ModelEMA: the model has no tensor ${name}`);
        mine.assign(theirs);
      }
    });
    for (const [name, value] of source.counters) this.model.counters.set(name, value);
  }

  private *pairs(source: YoloModel): Generator<[string, tf.Variable, tf.Variable | undefined]> {
    for (const [name, t] of this.model.params) yield [name, t.variable, source.params.get(name)?.variable];
    for (const [name, t] of this.model.buffers) yield [name, t.variable, source.buffers.get(name)?.variable];
  }
}
