/**
 * Data-parallel training over replica threads, as PyTorch DDP without SyncBN does it on several
 * devices: each batch is split into one shard per replica; every replica runs its shard's forward
 * and backward passes (BatchNorm normalising with the shard's own statistics); the gradients are
 * summed in rank order, so a seed and a worker count always give the same weights; the
 * coordinator (this thread) takes the optimizer step and keeps the one EMA, then sends the new
 * weights with the next shards. BatchNorm running statistics follow replica 0, as DDP broadcasts
 * rank 0's buffers. Each shard's loss is its exact share of the batch's (see LossNorm), so with
 * BatchNorm statistics out of play the summed gradients equal one replica's on the whole batch.
 */
import * as tf from '@tensorflow/tfjs';
import type { NamedTensors } from '../host-tensor.js';
import type { Detections, NmsOptions } from '../infer/nms.js';
import type { YoloModel } from '../model/forward.js';
import type { BackendName } from '../../../shared/backend.js';
import { lossNormFor } from '../train/loss.js';
import type { YoloSgd } from '../train/optimizer.js';
import { sliceBatch, type StepBatch, type StepLosses, type StepModel } from '../train/step.js';
import { ReplicaPool } from './pool.js';
import type { FromReplica } from './protocol.js';

/** What data-parallel training needs of the run's set-up (a TrainSetup fits). */
export interface ParallelSetup extends StepModel {
  readonly optimizer: YoloSgd;
  /** YOLOv5's model yaml dict of the model (anchors as trained). */
  readonly yaml: Record<string, unknown>;
}

/** Sizes of `parts` shards of a batch of `batch` images, the larger first; never an empty shard. */
export function shardSizes(batch: number, parts: number): number[] {
  const n = Math.max(1, Math.min(parts, batch));
  const base = Math.floor(batch / n);
  const extra = batch % n;
  return Array.from({ length: n }, (_, r) => base + (r < extra ? 1 : 0));
}

/** Batch inference spread over a pool (validation, `val`). */
export interface BatchDetector {
  /** Batches in flight at once (one per replica). */
  readonly concurrency: number;
  detect(
    images: Float32Array,
    shape: readonly [number, number, number],
    nms: NmsOptions,
  ): Promise<{ readonly detections: readonly Detections[]; readonly peakBytes: number }>;
}

type Reply<T extends FromReplica['type']> = Extract<FromReplica, { type: T }>;

function expect<T extends FromReplica['type']>(m: FromReplica, type: T): Reply<T> {
  if (m.type !== type) throw new Error(`replica answered '${m.type}' to a '${type}' request`);
  return m as Reply<T>;
}

/** A detector over a pool: batch k goes to replica k mod size. */
export function poolDetector(pool: ReplicaPool): BatchDetector {
  let next = 0;
  return {
    concurrency: pool.size,
    async detect(images, shape, nms) {
      const rank = next++ % pool.size;
      const copy = images.slice();
      const m = expect(await pool.request(rank, { type: 'detect', images: copy, shape, nms }, [copy.buffer]), 'detect');
      return { detections: m.detections, peakBytes: m.peakBytes };
    },
  };
}

/**
 * Replicas of `model` for inference only (`val`): batches then run on `size` threads at once.
 * Close the pool when done.
 */
export function startInferencePool(
  model: YoloModel,
  yaml: Record<string, unknown>,
  size: number,
  backend: BackendName,
): Promise<ReplicaPool> {
  return ReplicaPool.start({ size, backend, model: { yaml, nc: model.graph.nc, tensors: model.exportTensors() } });
}

export class DataParallel {
  readonly #pool: ReplicaPool;
  readonly #s: ParallelSetup;
  #weightsChanged = false;

  private constructor(pool: ReplicaPool, s: ParallelSetup) {
    this.#pool = pool;
    this.#s = s;
  }

  /** Starts `size` replicas of the set-up's model, in its current state, on `backend`. */
  static async start(s: ParallelSetup, size: number, backend: BackendName): Promise<DataParallel> {
    const names = new Map([...s.model.params].map(([name, p]) => [p.variable.name, name]));
    const trainable = s.trainableVars.map((v) => {
      const name = names.get(v.name);
      if (!name) throw new Error(`data-parallel: trainable variable ${v.name} is not a model parameter`);
      return name;
    });
    const pool = await ReplicaPool.start({
      size,
      backend,
      model: { yaml: s.yaml, nc: s.model.graph.nc, tensors: s.model.exportTensors() },
      train: {
        trainable,
        firstTrainable: s.firstTrainable,
        bnEvalModules: [...s.bnEvalModules],
        lossContext: s.lossContext,
      },
    });
    return new DataParallel(pool, s);
  }

  get size(): number {
    return this.#pool.size;
  }

  /** The pool, for inference between steps (validation) and for tests. */
  get pool(): ReplicaPool {
    return this.#pool;
  }

  /** Images per pass on each replica, measured by replica 0 on its first shard (see chooseMicroBatch). */
  async chooseMicroBatch(batch: StepBatch): Promise<number> {
    const first = shardSizes(batch.shape[0] ?? 1, this.size)[0] ?? 1;
    const shard = sliceBatch(batch, 0, first);
    const images = shard.images.slice();
    const m = await this.#pool.request(
      0,
      { type: 'probe', replicas: this.size, images, shape: shard.shape, targets: shard.targets },
      [images.buffer],
    );
    return expect(m, 'probe').micro;
  }

  /**
   * One batch over the replicas: their gradients, summed in rank order, go to the optimizer's
   * accumulation; replica 0's BatchNorm running statistics become the model's. Losses are the
   * batch's; `peakBytes` (with `profile`) adds up every replica's in-step peak.
   */
  async step(batch: StepBatch, micro: number, profile: boolean): Promise<{ losses: StepLosses; peakBytes: number }> {
    const s = this.#s;
    const [b, h, w] = batch.shape as [number, number, number, number];
    const norm = lossNormFor(batch.targets, [b, h, w], s.lossContext);
    const weights = this.#weightsChanged
      ? s.trainableVars.map((v) => Float32Array.from(v.dataSync() as Float32Array))
      : undefined;
    this.#weightsChanged = false;
    let from = 0;
    const replies = await Promise.all(
      shardSizes(b, this.size).map(async (n, rank) => {
        const shard = sliceBatch(batch, from, n);
        from += n;
        const images = shard.images.slice();
        const m = await this.#pool.request(
          rank,
          {
            type: 'step',
            images,
            shape: shard.shape,
            targets: shard.targets,
            norm,
            micro,
            ...(weights ? { weights } : {}),
            returnBuffers: rank === 0,
            profile,
          },
          [images.buffer],
        );
        return expect(m, 'step');
      }),
    );
    this.#accumulate(replies);
    const lead = replies[0]?.buffers;
    if (lead) assignBuffers(s.model, lead.names, lead.values, lead.counters);
    const losses: StepLosses = { total: 0, box: 0, obj: 0, cls: 0 };
    for (const r of replies) {
      losses.total += r.losses.total;
      losses.box += r.losses.box;
      losses.obj += r.losses.obj;
      losses.cls += r.losses.cls;
    }
    return { losses, peakBytes: replies.reduce((a, r) => a + (r.peakBytes ?? 0), 0) };
  }

  /** The optimizer changed the weights: the replicas get them with the next shards. */
  weightsChanged(): void {
    this.#weightsChanged = true;
  }

  /** Loads weights (e.g. the EMA's) into every replica's inference model. */
  async loadEvalWeights(tensors: NamedTensors): Promise<void> {
    await Promise.all(
      Array.from({ length: this.size }, (_, r) => this.#pool.request(r, { type: 'eval-weights', tensors })),
    );
  }

  detector(): BatchDetector {
    return poolDetector(this.#pool);
  }

  close(): Promise<void> {
    return this.#pool.close();
  }

  #accumulate(replies: readonly Reply<'step'>[]): void {
    const named: tf.NamedTensorMap = {};
    try {
      this.#s.trainableVars.forEach((v, k) => {
        let sum: Float32Array | undefined;
        for (const r of replies) {
          const g = r.grads[k];
          if (!g || g.length === 0) continue;
          if (!sum) sum = Float32Array.from(g);
          else for (let i = 0; i < sum.length; i++) sum[i]! += g[i]!;
        }
        if (sum) named[v.name] = tf.tensor(sum, v.shape, 'float32');
      });
      this.#s.optimizer.accumulate(named);
    } finally {
      tf.dispose(Object.values(named));
    }
  }
}

/** Sets a model's buffers (BatchNorm running statistics, anchors) and counters to a replica's. */
function assignBuffers(
  model: YoloModel,
  names: readonly string[],
  values: readonly Float32Array[],
  counters: readonly (readonly [string, number])[],
): void {
  tf.tidy(() => {
    names.forEach((name, k) => {
      const target = model.buffers.get(name)?.variable;
      const value = values[k];
      if (target && value) target.assign(tf.tensor(value, target.shape, 'float32'));
    });
  });
  for (const [name, count] of counters) model.counters.set(name, count);
}
