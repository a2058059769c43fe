/**
 * A model replica: the work one thread does for data-parallel training (a shard's forward and
 * backward passes) and inference (a batch's forward, decode and NMS). It runs in a worker thread
 * (replica-thread.ts) with its own TensorFlow.js backend, so each replica has its own WASM memory.
 */
import * as tf from '@tensorflow/tfjs';
import { detectBatch, type MemoryPeak } from '../infer/detect.js';
import { YoloModel } from '../model/forward.js';
import { buildGraph } from '../model/graph.js';
import { modelYamlFromObject } from '../model/yaml.js';
import { initBackend } from '../tf/backend.js';
import { registerTrainingKernels } from '../tf/index.js';
import { trainingConvBnAct } from '../train/fused-kernel.js';
import { chooseMicroBatch, trainStep, type StepModel } from '../train/step.js';
import type { FromReplica, InitMessage, ReplicaBuffers, StepMessage, ToReplica } from './protocol.js';

/** A reply and the buffers it hands over rather than copies. */
export interface ReplicaReply {
  readonly message: FromReplica;
  readonly transfer: ArrayBuffer[];
}

export class Replica {
  #model?: YoloModel;
  #evalModel?: YoloModel;
  #step?: StepModel;

  async handle(msg: ToReplica): Promise<ReplicaReply> {
    switch (msg.type) {
      case 'init':
        await this.#init(msg);
        return { message: { type: 'ready', seq: msg.seq }, transfer: [] };
      case 'step':
        return this.#trainStep(msg);
      case 'probe': {
        const micro = await chooseMicroBatch(this.#trainer(), msg, msg.replicas);
        return { message: { type: 'probe', seq: msg.seq, micro }, transfer: [] };
      }
      case 'eval-weights': {
        const model = this.#built();
        this.#evalModel ??= YoloModel.create(model.graph);
        this.#evalModel.loadTensors(msg.tensors, { source: 'the coordinator' });
        return { message: { type: 'ready', seq: msg.seq }, transfer: [] };
      }
      case 'detect':
        return this.#detect(msg);
    }
  }

  dispose(): void {
    this.#evalModel?.dispose();
    this.#model?.dispose();
  }

  async #init(msg: InitMessage): Promise<void> {
    if (this.#model) throw new Error('replica initialised twice');
    await initBackend({ prefer: msg.backend });
    const graph = buildGraph(modelYamlFromObject(msg.model.yaml, 'the coordinator model'), { nc: msg.model.nc });
    const model = YoloModel.create(graph);
    model.loadTensors(msg.model.tensors, { source: 'the coordinator' });
    this.#model = model;
    const train = msg.train;
    if (!train) return;
    registerTrainingKernels();
    model.convBnAct = trainingConvBnAct;
    const trainableVars = train.trainable.map((name) => {
      const p = model.params.get(name);
      if (!p) throw new Error(`replica: the model has no parameter ${name}`);
      return p.variable;
    });
    this.#step = {
      model,
      firstTrainable: train.firstTrainable,
      bnEvalModules: new Set(train.bnEvalModules),
      trainableVars,
      lossContext: train.lossContext,
    };
  }

  #built(): YoloModel {
    if (!this.#model) throw new Error('replica used before init');
    return this.#model;
  }

  #trainer(): StepModel {
    if (!this.#step) throw new Error('replica was not initialised for training');
    return this.#step;
  }

  async #trainStep(msg: StepMessage): Promise<ReplicaReply> {
    const m = this.#trainer();
    if (msg.weights) {
      if (msg.weights.length !== m.trainableVars.length)
        throw new Error('replica: weights do not match the trainable parameters');
      tf.tidy(() => m.trainableVars.forEach((v, k) => v.assign(tf.tensor(msg.weights![k]!, v.shape, 'float32'))));
    }
    const index = new Map(m.trainableVars.map((v, k) => [v.name, k]));
    const sums: (Float32Array | undefined)[] = m.trainableVars.map(() => undefined);
    const sink = (grads: tf.NamedTensorMap): void => {
      for (const [name, g] of Object.entries(grads)) {
        const k = index.get(name);
        if (k === undefined) throw new Error(`replica: gradient for ${name}, which is not trainable`);
        const data = g.dataSync() as Float32Array;
        const acc = sums[k];
        if (!acc) sums[k] = Float32Array.from(data);
        else for (let i = 0; i < acc.length; i++) acc[i]! += data[i]!;
      }
    };
    const batch = { images: msg.images, shape: msg.shape, targets: msg.targets };
    const opts = { micro: msg.micro, norm: msg.norm };
    let peakBytes: number | undefined;
    let losses;
    if (msg.profile) {
      let measured;
      const info = await tf.profile(() => {
        measured = trainStep(m, batch, sink, opts);
        return [];
      });
      peakBytes = info.peakBytes;
      losses = measured ?? { total: NaN, box: NaN, obj: NaN, cls: NaN };
    } else {
      losses = trainStep(m, batch, sink, opts);
    }
    // A parameter with no gradient travels as an empty array (the optimizer then leaves it alone).
    const grads = sums.map((g) => g ?? new Float32Array(0));
    const buffers = msg.returnBuffers ? this.#buffers() : undefined;
    const transfer = [...new Set([...grads, ...(buffers?.values ?? [])].map((a) => a.buffer as ArrayBuffer))];
    return {
      message: {
        type: 'step',
        seq: msg.seq,
        grads,
        losses,
        ...(peakBytes !== undefined ? { peakBytes } : {}),
        ...(buffers ? { buffers } : {}),
      },
      transfer,
    };
  }

  #buffers(): ReplicaBuffers {
    const model = this.#built();
    const names = [...model.buffers.keys()];
    return {
      names,
      values: names.map((n) => Float32Array.from(model.buffers.get(n)!.variable.dataSync() as Float32Array)),
      counters: [...model.counters],
    };
  }

  async #detect(msg: Extract<ToReplica, { type: 'detect' }>): Promise<ReplicaReply> {
    const peak: MemoryPeak = { peakBytes: 0 };
    const { detections } = await detectBatch(this.#evalModel ?? this.#built(), msg.images, msg.shape, msg.nms, peak);
    // Each buffer once (a transfer list must not repeat one).
    const transfer = [
      ...new Set(detections.flatMap((d) => [d.boxes.buffer, d.scores.buffer, d.classes.buffer])),
    ] as ArrayBuffer[];
    return { message: { type: 'detect', seq: msg.seq, detections, peakBytes: peak.peakBytes }, transfer };
  }
}
