/**
 * Messages between the training coordinator and its replica threads (data-parallel training and
 * inference). Each replica owns a TensorFlow.js backend and a copy of the model; the coordinator
 * owns the optimizer, the EMA and the loader. Arrays travel as typed arrays (structured clone).
 */
import type { BackendName } from '../../../shared/backend.js';
import type { NamedTensors } from '../host-tensor.js';
import type { Detections, NmsOptions } from '../infer/nms.js';
import type { LossContext, LossNorm } from '../train/loss.js';
import type { StepLosses } from '../train/step.js';

/** What a replica needs to build its model. */
export interface ReplicaModelSpec {
  /** YOLOv5's model yaml dict (as checkpoints store it) and the class count. */
  readonly yaml: Record<string, unknown>;
  readonly nc: number;
  /** Every parameter and buffer, PyTorch names and layout. */
  readonly tensors: NamedTensors;
}

/** What a replica needs to train (absent for inference-only pools). */
export interface ReplicaTrainSpec {
  /** Names of the trainable parameters, in the order gradients and weights travel. */
  readonly trainable: readonly string[];
  readonly firstTrainable: number;
  readonly bnEvalModules: readonly number[];
  readonly lossContext: LossContext;
}

export interface InitMessage {
  readonly type: 'init';
  readonly seq: number;
  readonly rank: number;
  readonly backend: BackendName;
  readonly model: ReplicaModelSpec;
  readonly train?: ReplicaTrainSpec;
}

export interface StepMessage {
  readonly type: 'step';
  readonly seq: number;
  readonly images: Float32Array;
  readonly shape: readonly number[];
  readonly targets: Float32Array;
  readonly norm: LossNorm;
  readonly micro: number;
  /** New values of the trainable parameters (variable layout, trainable order), after an optimizer step. */
  readonly weights?: readonly Float32Array[];
  /** Send back BatchNorm running statistics and counters after the step (the rank that leads them). */
  readonly returnBuffers: boolean;
  /** Measure the step's peak live tensor bytes (tf.profile). */
  readonly profile: boolean;
}

/** Measures how many images of this shape fit in one pass (see chooseMicroBatch). */
export interface ProbeMessage {
  readonly type: 'probe';
  readonly seq: number;
  /** Replicas sharing the memory budget. */
  readonly replicas: number;
  readonly images: Float32Array;
  readonly shape: readonly number[];
  readonly targets: Float32Array;
}

/** Loads weights for inference (e.g. the EMA before validation), apart from the training replica. */
export interface EvalWeightsMessage {
  readonly type: 'eval-weights';
  readonly seq: number;
  readonly tensors: NamedTensors;
}

/** Eval-mode forward, decode and NMS of a batch [n, h, w, 3]. */
export interface DetectMessage {
  readonly type: 'detect';
  readonly seq: number;
  readonly images: Float32Array;
  readonly shape: readonly [number, number, number];
  readonly nms: NmsOptions;
}

export type ToReplica = InitMessage | StepMessage | ProbeMessage | EvalWeightsMessage | DetectMessage;

/** BatchNorm running statistics (variable layout = PyTorch layout for 1-D tensors) and counters. */
export interface ReplicaBuffers {
  readonly names: readonly string[];
  readonly values: readonly Float32Array[];
  readonly counters: readonly (readonly [string, number])[];
}

export type FromReplica =
  | { readonly type: 'ready'; readonly seq: number }
  | {
      readonly type: 'step';
      readonly seq: number;
      /** Gradients of the trainable parameters (variable layout, trainable order), summed over micro-batches. */
      readonly grads: readonly Float32Array[];
      readonly losses: StepLosses;
      readonly peakBytes?: number;
      readonly buffers?: ReplicaBuffers;
    }
  | { readonly type: 'probe'; readonly seq: number; readonly micro: number }
  | {
      readonly type: 'detect';
      readonly seq: number;
      readonly detections: readonly Detections[];
      readonly peakBytes: number;
    }
  | {
      readonly type: 'error';
      readonly seq: number;
      readonly name: string;
      readonly message: string;
      readonly stack?: string;
    };
