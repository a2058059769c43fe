/**
 * A YOLOv5 model in TensorFlow.js: weights as tf.Variables keyed by PyTorch state_dict names,
 * forward pass in NHWC returning YOLOv5's raw Detect maps [b, na, ny, nx, 5+nc], and eval-mode
 * decoding (models/yolo.py Detect.forward). Train-mode BatchNorm updates running statistics
 * with momentum 0.03 as PyTorch does; the loss and optimiser live elsewhere.
 */
import * as tf from '@tensorflow/tfjs';
import type { HostTensor, NamedTensors } from '../host-tensor.js';
import type { TensorSpec } from './blocks.js';
import { detectBlock } from './graph.js';
import type { ModelGraph } from './graph.js';
import { hwioToOihw, initialTensor, makeRng, oihwToHwio } from './init.js';
import { BN_EPS, BN_MOMENTUM, defaultConvBnAct } from './kernels.js';
import type { BnTensors, ConvBnActFn } from './kernels.js';
import { runBlock } from './blocks/registry.js';
import { runConv } from './layers.js';
import type { BlockContext } from './layers.js';
import { planLoad } from './load.js';
import type { LoadOptions, LoadReport } from './load.js';

/** A model tensor held as a variable; `torchShape` is the PyTorch shape (OIHW for conv weights). */
export interface ModelTensor {
  readonly variable: tf.Variable;
  readonly torchShape: readonly number[];
}

/** Forward options. */
export interface ForwardOptions {
  /** Train mode: BatchNorm uses batch statistics and (unless `updateStats` is false) updates running stats. */
  readonly training: boolean;
  /** Update running statistics in train mode (default true, as PyTorch). */
  readonly updateStats?: boolean;
  /** Modules whose BatchNorm stays in eval mode even in train mode (e.g. frozen ones). */
  readonly bnEvalModules?: ReadonlySet<number>;
  /** Running-statistics momentum (default PyTorch's BatchNorm2d momentum as YOLOv5 sets it, 0.03). */
  readonly bnMomentum?: number;
}

/** Intermediate state of a forward pass, so a module range can run outside a gradient tape. */
export interface ForwardState {
  /** Next module to run. */
  readonly next: number;
  /** Outputs still needed by later modules, by module index (-1 = the input). */
  readonly outputs: ReadonlyMap<number, tf.Tensor4D>;
  /** Raw Detect maps once the Detect module has run. */
  readonly raws?: tf.Tensor5D[];
}

let instanceCounter = 0;

/** Options for {@link YoloModel.create}. */
export interface CreateOptions {
  /** Seed of the fresh initialisation (default 0). */
  readonly seed?: number;
}

/** A YOLOv5 model whose tensors live in tf.Variables on the current backend. */
export class YoloModel {
  /** Trainable tensors by PyTorch name (conv weights held HWIO). */
  readonly params = new Map<string, ModelTensor>();
  /** BatchNorm running statistics and Detect anchors by PyTorch name. */
  readonly buffers = new Map<string, ModelTensor>();
  /** BatchNorm `num_batches_tracked` counters by PyTorch name. */
  readonly counters = new Map<string, number>();
  /** The Conv+BN+SiLU kernel; swap it for one with fused gradients. */
  convBnAct: ConvBnActFn = defaultConvBnAct;
  private readonly lastUse = new Map<number, number>();
  private readonly specs: ReadonlyMap<string, TensorSpec>;

  private constructor(
    readonly graph: ModelGraph,
    seed: number,
  ) {
    const id = instanceCounter++;
    const all = new Map(graph.tensors.map((t) => [t.name, t]));
    this.specs = all;
    const detect = detectBlock(graph);
    const rng = makeRng(seed);
    for (const t of graph.tensors) {
      const init = initialTensor(t, all, detect, rng);
      if (t.name.endsWith('.num_batches_tracked')) {
        this.counters.set(t.name, 0);
        continue;
      }
      const value = this.toTf(t, init);
      const variable = tf.variable(value, t.kind === 'param', `yolo${id}/${t.name}`);
      value.dispose(); // the variable holds its own reference to the data
      (t.kind === 'param' ? this.params : this.buffers).set(t.name, { variable, torchShape: t.shape });
    }
    for (const m of graph.modules)
      for (const j of m.inputs) this.lastUse.set(j, Math.max(this.lastUse.get(j) ?? -1, m.index));
  }

  /** Builds a model with fresh weights (PyTorch default init, YOLOv5 Detect bias prior). */
  static create(graph: ModelGraph, opts: CreateOptions = {}): YoloModel {
    return new YoloModel(graph, opts.seed ?? 0);
  }

  /** Host tensor (PyTorch layout) to a tf tensor in this model's layout (HWIO for conv weights). */
  private toTf(spec: TensorSpec, t: HostTensor): tf.Tensor {
    const data = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as ArrayLike<number>, Number);
    if (spec.shape.length === 4) {
      const [o = 1, i = 1, h = 1, w = 1] = spec.shape;
      return tf.tensor4d(oihwToHwio(data, spec.shape), [h, w, i, o]);
    }
    return tf.tensor(data, [...spec.shape], 'float32');
  }

  /**
   * Loads checkpoint tensors by name. Detect convs whose shape differs (another nc) are
   * re-initialised with the YOLOv5 bias prior; any other mismatch throws ModelLoadError.
   */
  loadTensors(named: NamedTensors, opts: LoadOptions & { seed?: number } = {}): LoadReport {
    const report = planLoad(this.graph, named, opts);
    const detect = detectBlock(this.graph);
    const rng = makeRng(opts.seed ?? 0);
    const assign = (name: string, host: HostTensor): void => {
      const spec = this.specs.get(name);
      if (!spec) return;
      if (name.endsWith('.num_batches_tracked')) {
        this.counters.set(name, Number(host.data[0] ?? 0));
        return;
      }
      const target = this.params.get(name) ?? this.buffers.get(name);
      if (!target) return;
      const value = this.toTf(spec, host);
      target.variable.assign(value);
      value.dispose();
    };
    for (const name of report.loaded) {
      const host = named.get(name);
      if (host) assign(name, host);
    }
    for (const name of report.reinitialised) {
      const spec = this.specs.get(name);
      if (spec) assign(name, initialTensor(spec, this.specs, detect, rng));
    }
    return report;
  }

  /** All parameters and buffers as host tensors in PyTorch names, order and layout. */
  exportTensors(): NamedTensors {
    const out: NamedTensors = new Map();
    for (const t of this.graph.tensors) {
      if (t.name.endsWith('.num_batches_tracked')) {
        out.set(t.name, { dtype: 'int64', shape: [], data: BigInt64Array.of(BigInt(this.counters.get(t.name) ?? 0)) });
        continue;
      }
      const v = (this.params.get(t.name) ?? this.buffers.get(t.name))?.variable;
      if (!v) continue;
      const data = v.dataSync() as Float32Array;
      out.set(t.name, {
        dtype: 'float32',
        shape: [...t.shape],
        data: t.shape.length === 4 ? hwioToOihw(data, t.shape) : Float32Array.from(data),
      });
    }
    return out;
  }

  /** Starts a forward pass on an NHWC float32 batch [b, h, w, 3] (RGB, 0-1). */
  begin(x: tf.Tensor4D): ForwardState {
    return { next: 0, outputs: new Map([[-1, x]]) };
  }

  /**
   * Runs modules `from` .. `to - 1` (from must be state.next). Run a frozen prefix outside the
   * gradient tape and the rest inside it; outputs not needed after `to` are dropped from the state.
   */
  runModules(state: ForwardState, from: number, to: number, opts: ForwardOptions): ForwardState {
    if (from !== state.next) throw new Error(`runModules: state is at module ${state.next}, not ${from}`);
    const count = this.graph.modules.length;
    if (to < from || to > count) throw new Error(`runModules: range ${from}..${to} outside 0..${count}`);
    const outputs = new Map(state.outputs);
    let raws = state.raws;
    for (let i = from; i < to; i++) {
      const m = this.graph.modules[i];
      if (!m) break;
      const inputs = m.inputs.map((j) => {
        const t = outputs.get(j);
        if (!t) throw new Error(`runModules: output of module ${j} is not available for module ${i}`);
        return t;
      });
      const ctx = this.context(opts, m.index);
      if (m.block.kind === 'Detect') {
        const det = m.block;
        raws = det.convs.map((spec, l) => {
          const y = runConv(ctx, spec, inputs[l] as tf.Tensor4D);
          const [b, ny, nx] = y.shape;
          return tf.transpose(tf.reshape(y, [b, ny, nx, det.na, det.nc + 5]), [0, 3, 1, 2, 4]) as tf.Tensor5D;
        });
      } else {
        outputs.set(i, runBlock(ctx, m.block, inputs));
      }
      // Drop what nobody after module i needs (the previous output is always kept for -1 refs).
      for (const j of [...outputs.keys()]) if ((this.lastUse.get(j) ?? -1) <= i && j !== i) outputs.delete(j);
    }
    return { next: to, outputs, ...(raws ? { raws } : {}) };
  }

  /**
   * Runs modules 0 .. to-1 in its own tf.tidy (e.g. a frozen prefix, outside any gradient tape)
   * and keeps only the outputs later modules need; free them with {@link disposeState}.
   */
  runPrefix(x: tf.Tensor4D, to: number, opts: ForwardOptions): ForwardState {
    let state: ForwardState = this.begin(x);
    tf.tidy(() => {
      state = this.runModules(state, 0, to, opts);
      for (const t of state.outputs.values()) tf.keep(t);
      for (const t of state.raws ?? []) tf.keep(t);
    });
    return state;
  }

  /** Disposes the tensors a state holds (not the input image). */
  disposeState(state: ForwardState): void {
    for (const [j, t] of state.outputs) if (j >= 0) t.dispose();
    for (const t of state.raws ?? []) t.dispose();
  }

  /** Full forward: raw Detect maps per level, [b, na, ny, nx, 5+nc] (PyTorch layout). */
  forward(x: tf.Tensor4D, opts: ForwardOptions): tf.Tensor5D[] {
    const s = this.runModules(this.begin(x), 0, this.graph.modules.length, opts);
    if (!s.raws) throw new Error('forward: the graph ended without a Detect module');
    return s.raws;
  }

  /** Eval-mode Detect decoding: [b, N, 5+nc] with xywh in input pixels and sigmoid scores. */
  decode(raws: readonly tf.Tensor5D[]): tf.Tensor3D {
    const det = detectBlock(this.graph);
    const anchors = this.buffers.get(det.anchorsName)?.variable;
    if (!anchors) throw new Error('decode: anchors buffer missing');
    return tf.tidy(() => {
      const levels = raws.map((raw, l) => {
        const [b, na, ny, nx, no] = raw.shape;
        const stride = det.strides[l] ?? 1;
        const sig = tf.reshape(tf.sigmoid(raw), [b, na, ny * nx, no]);
        const gx = tf.tile(tf.range(0, nx, 1, 'float32').reshape([1, nx]), [ny, 1]);
        const gy = tf.tile(tf.range(0, ny, 1, 'float32').reshape([ny, 1]), [1, nx]);
        const grid = tf.stack([gx.reshape([ny * nx]), gy.reshape([ny * nx])], 1).reshape([1, 1, ny * nx, 2]);
        // anchor_grid = anchors (grid units) * stride, as Detect._make_grid
        const anchorPx = tf.mul(tf.slice(anchors, [l, 0, 0], [1, na, 2]), stride).reshape([1, na, 1, 2]);
        const xy = tf.mul(
          tf.add(tf.sub(tf.mul(tf.slice(sig, [0, 0, 0, 0], [b, na, ny * nx, 2]), 2), 0.5), grid),
          stride,
        );
        const wh = tf.mul(tf.square(tf.mul(tf.slice(sig, [0, 0, 0, 2], [b, na, ny * nx, 2]), 2)), anchorPx);
        const rest = tf.slice(sig, [0, 0, 0, 4], [b, na, ny * nx, no - 4]);
        return tf.reshape(tf.concat([xy, wh, rest], 3), [b, na * ny * nx, no]);
      });
      return tf.concat(levels, 1) as tf.Tensor3D;
    });
  }

  /** Frees every variable. */
  dispose(): void {
    for (const t of [...this.params.values(), ...this.buffers.values()]) t.variable.dispose();
    this.params.clear();
    this.buffers.clear();
  }

  private context(opts: ForwardOptions, module: number): BlockContext {
    const batchStats = opts.training && !(opts.bnEvalModules?.has(module) ?? false);
    const update = batchStats && opts.updateStats !== false;
    const m = opts.bnMomentum ?? BN_MOMENTUM;
    const get = (name: string): tf.Variable => {
      const v = (this.params.get(name) ?? this.buffers.get(name))?.variable;
      if (!v) throw new Error(`model tensor ${name} missing`);
      return v;
    };
    return {
      convBnAct: this.convBnAct,
      weights: (spec) => ({
        w: get(spec.weight) as unknown as tf.Tensor4D,
        ...(spec.bias ? { bias: get(spec.bias) as unknown as tf.Tensor1D } : {}),
      }),
      bn: (prefix): BnTensors => ({
        gamma: get(`${prefix}.weight`) as unknown as tf.Tensor1D,
        beta: get(`${prefix}.bias`) as unknown as tf.Tensor1D,
        runningMean: get(`${prefix}.running_mean`) as unknown as tf.Tensor1D,
        runningVar: get(`${prefix}.running_var`) as unknown as tf.Tensor1D,
      }),
      batchStats,
      eps: BN_EPS,
      recordStats: (prefix, mean, biasedVar, count) => {
        if (!update) return;
        // PyTorch: running = (1 - m) * running + m * batch, with the unbiased batch variance.
        const rm = get(`${prefix}.running_mean`);
        const rv = get(`${prefix}.running_var`);
        tf.tidy(() => {
          rm.assign(tf.add(tf.mul(rm, 1 - m), tf.mul(mean, m)));
          const unbiased = tf.mul(biasedVar, count / Math.max(count - 1, 1));
          rv.assign(tf.add(tf.mul(rv, 1 - m), tf.mul(unbiased, m)));
        });
        const key = `${prefix}.num_batches_tracked`;
        this.counters.set(key, (this.counters.get(key) ?? 0) + 1);
      },
    };
  }
}
