/**
 * Fresh initial values in PyTorch layout: PyTorch's default Conv2d init (kaiming_uniform with
 * a=sqrt(5), i.e. U(+-1/sqrt(fan_in)) for weights and biases), BatchNorm 1/0/0/1, and YOLOv5's Detect
 * bias prior (models/yolo.py _initialize_biases).
 */
import type { HostTensor } from '../host-tensor.js';
import { numel } from '../host-tensor.js';
import type { Block, TensorSpec } from './blocks.js';
import { mulberry32 } from '../../../shared/random.js';

/** Small deterministic PRNG so a seed reproduces a model. */
export const makeRng = mulberry32;

/** Detect bias prior: objectness += log(8/(640/s)^2), classes += log(0.6/(nc-0.99999)). */
export function applyDetectBiasPrior(bias: Float32Array, na: number, nc: number, stride: number): void {
  const no = nc + 5;
  for (let a = 0; a < na; a++) {
    bias[a * no + 4] = (bias[a * no + 4] ?? 0) + Math.log(8 / (640 / stride) ** 2);
    for (let c = 0; c < nc; c++) bias[a * no + 5 + c] = (bias[a * no + 5 + c] ?? 0) + Math.log(0.6 / (nc - 0.99999));
  }
}

/** Fan-in of a conv weight named `...weight` with OIHW shape, found among the model's tensors. */
function fanIn(shape: readonly number[]): number {
  return (shape[1] ?? 1) * (shape[2] ?? 1) * (shape[3] ?? 1);
}

/**
 * Initial value of one tensor. Conv biases use their weight's fan-in; Detect biases get the prior;
 * anchors are the pixel anchors divided by stride (YOLOv5 stores them in grid units).
 */
export function initialTensor(
  spec: TensorSpec,
  all: ReadonlyMap<string, TensorSpec>,
  detect: Extract<Block, { kind: 'Detect' }>,
  rng: () => number,
): HostTensor {
  const n = numel(spec.shape);
  const name = spec.name;
  if (name.endsWith('.num_batches_tracked')) return { dtype: 'int64', shape: [], data: new BigInt64Array(1) };
  const data = new Float32Array(n);
  if (name === detect.anchorsName) {
    detect.anchorPixels.forEach((level, l) =>
      level.forEach(([w, h], a) => {
        const s = detect.strides[l] ?? 1;
        data[(l * detect.na + a) * 2] = w / s;
        data[(l * detect.na + a) * 2 + 1] = h / s;
      }),
    );
  } else if (name.endsWith('.running_var') || (name.endsWith('.weight') && spec.shape.length === 1)) {
    data.fill(1); // BatchNorm weight and running_var
  } else if (
    name.endsWith('.running_mean') ||
    (name.endsWith('.bias') && all.get(name.replace(/\.bias$/, '.weight'))?.shape.length === 1)
  ) {
    // BatchNorm bias and running_mean stay 0.
  } else {
    const weightShape = name.endsWith('.bias') ? all.get(name.replace(/\.bias$/, '.weight'))?.shape : spec.shape;
    const bound = 1 / Math.sqrt(fanIn(weightShape ?? spec.shape));
    for (let i = 0; i < n; i++) data[i] = (rng() * 2 - 1) * bound;
    const level = detect.convs.findIndex((c) => c.bias === name);
    if (level >= 0) applyDetectBiasPrior(data, detect.na, detect.nc, detect.strides[level] ?? 8);
  }
  return { dtype: 'float32', shape: [...spec.shape], data };
}

/** OIHW -> HWIO for conv weights (other tensors unchanged). */
export function oihwToHwio(data: Float32Array, shape: readonly number[]): Float32Array {
  const [o = 1, i = 1, h = 1, w = 1] = shape;
  const out = new Float32Array(data.length);
  for (let a = 0; a < o; a++)
    for (let b = 0; b < i; b++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) out[((y * w + x) * i + b) * o + a] = data[((a * i + b) * h + y) * w + x] ?? 0;
  return out;
}

/** HWIO -> OIHW (inverse of {@link oihwToHwio}); `shape` is the OIHW shape. */
export function hwioToOihw(data: Float32Array, shape: readonly number[]): Float32Array {
  const [o = 1, i = 1, h = 1, w = 1] = shape;
  const out = new Float32Array(data.length);
  for (let a = 0; a < o; a++)
    for (let b = 0; b < i; b++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) out[((a * i + b) * h + y) * w + x] = data[((y * w + x) * i + b) * o + a] ?? 0;
  return out;
}
