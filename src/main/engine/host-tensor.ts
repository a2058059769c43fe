/**
 * A tensor held in plain JS memory, independent of any TensorFlow.js backend. Weight readers and
 * writers (.pt, safetensors) produce and consume these; the model turns them into tf.Variables.
 */
export type HostDType = 'float32' | 'int32' | 'int64';

export type HostData = Float32Array | Int32Array | BigInt64Array;

export interface HostTensor {
  readonly dtype: HostDType;
  /** Shape in PyTorch layout (conv weights OIHW). */
  readonly shape: readonly number[];
  readonly data: HostData;
  /** dtype in the file it came from when it was widened on read (float16 -> float32). */
  readonly sourceDType?: string;
}

/** Tensors keyed by PyTorch state_dict name, e.g. `model.24.m.0.weight`. */
export type NamedTensors = Map<string, HostTensor>;

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
