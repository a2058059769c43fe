/** Mapping between SQL rows (snake_case) and the shared domain types (camelCase). */
import type { ClassMetrics } from '../../../shared/metrics.js';
import type {
  Artifact,
  ArtifactKind,
  BnPolicy,
  EpochHeadline,
  EpochRecord,
  ResourceSample,
  RunRecord,
  RunStatus,
} from '../../../shared/runs.js';

export interface RunRow {
  id: number;
  created_at: number;
  name: string;
  sweep_id: number | null;
  status: string;
  status_reason: string | null;
  config_json: string;
  dataset_path: string;
  dataset_fingerprint: string | null;
  weights_path: string | null;
  weights_sha256: string | null;
  model: string;
  img_size: number;
  batch: number;
  epochs: number;
  freeze_spec: string;
  frozen_modules_json: string;
  bn_policy: string;
  hyp_name: string | null;
  backend: string | null;
  trainable_params: number | null;
  total_params: number | null;
  seed: number;
  started_at: number | null;
  finished_at: number | null;
  pid: number | null;
  last_epoch_done: number;
  best_fitness: number | null;
  best_epoch: number | null;
}

export function toRun(row: RunRow): RunRecord {
  return {
    id: row.id,
    createdAt: row.created_at,
    name: row.name,
    sweepId: row.sweep_id,
    status: row.status as RunStatus,
    statusReason: row.status_reason,
    config: JSON.parse(row.config_json) as unknown,
    datasetPath: row.dataset_path,
    datasetFingerprint: row.dataset_fingerprint,
    weightsPath: row.weights_path,
    weightsSha256: row.weights_sha256,
    model: row.model,
    imgSize: row.img_size,
    batch: row.batch,
    epochs: row.epochs,
    freezeSpec: row.freeze_spec,
    frozenModules: JSON.parse(row.frozen_modules_json) as number[],
    bnPolicy: row.bn_policy as BnPolicy,
    hypName: row.hyp_name,
    backend: row.backend,
    trainableParams: row.trainable_params,
    totalParams: row.total_params,
    seed: row.seed,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    pid: row.pid,
    lastEpochDone: row.last_epoch_done,
    bestFitness: row.best_fitness,
    bestEpoch: row.best_epoch,
  };
}

export interface EpochRow {
  run_id: number;
  epoch: number;
  box_loss: number | null;
  obj_loss: number | null;
  cls_loss: number | null;
  lr0: number | null;
  lr1: number | null;
  lr2: number | null;
  precision: number | null;
  recall: number | null;
  map50: number | null;
  map50_95: number | null;
  fitness: number | null;
  seconds: number;
  images_per_second: number | null;
  peak_tensor_bytes: number | null;
  peak_rss_bytes: number | null;
  peak_gpu_mem_bytes: number | null;
}

export function toEpoch(row: EpochRow): EpochRecord {
  return {
    epoch: row.epoch,
    boxLoss: row.box_loss,
    objLoss: row.obj_loss,
    clsLoss: row.cls_loss,
    lr: [row.lr0, row.lr1, row.lr2],
    precision: row.precision,
    recall: row.recall,
    map50: row.map50,
    map50_95: row.map50_95,
    fitness: row.fitness,
    seconds: row.seconds,
    imagesPerSecond: row.images_per_second,
    peakTensorBytes: row.peak_tensor_bytes,
    peakRssBytes: row.peak_rss_bytes,
    peakGpuMemBytes: row.peak_gpu_mem_bytes,
  };
}

/** Columns of an epoch headline selected with a prefix, e.g. `l_epoch`, `l_map50`. */
export function toHeadline(row: Record<string, unknown>, prefix: string): EpochHeadline | null {
  const epoch = row[`${prefix}epoch`];
  if (typeof epoch !== 'number') return null;
  const num = (k: string) => (typeof row[`${prefix}${k}`] === 'number' ? (row[`${prefix}${k}`] as number) : null);
  return {
    epoch,
    precision: num('precision'),
    recall: num('recall'),
    map50: num('map50'),
    map50_95: num('map50_95'),
    fitness: num('fitness'),
  };
}

export interface ClassApRow {
  class_id: number;
  name: string;
  images: number;
  instances: number;
  p: number;
  r: number;
  ap50: number;
  ap50_95: number;
}

export function toClassAp(row: ClassApRow): ClassMetrics {
  return {
    classId: row.class_id,
    name: row.name,
    images: row.images,
    instances: row.instances,
    precision: row.p,
    recall: row.r,
    ap50: row.ap50,
    ap50_95: row.ap50_95,
  };
}

export interface SampleRow {
  t_ms: number;
  tensor_bytes: number | null;
  rss_bytes: number | null;
  gpu_mem_used_bytes: number | null;
  gpu_util: number | null;
  process_gpu_mem_bytes: number | null;
}

export function toSample(row: SampleRow): ResourceSample {
  return {
    tMs: row.t_ms,
    tensorBytes: row.tensor_bytes,
    rssBytes: row.rss_bytes,
    gpuMemUsedBytes: row.gpu_mem_used_bytes,
    gpuUtil: row.gpu_util,
    processGpuMemBytes: row.process_gpu_mem_bytes,
  };
}

export interface ArtifactRow {
  id: number;
  run_id: number;
  kind: string;
  path: string;
  sha256: string | null;
  bytes: number | null;
  epoch: number | null;
  created_at: number;
}

export function toArtifact(row: ArtifactRow): Artifact {
  return {
    id: row.id,
    runId: row.run_id,
    kind: row.kind as ArtifactKind,
    path: row.path,
    sha256: row.sha256,
    bytes: row.bytes,
    epoch: row.epoch,
    createdAt: row.created_at,
  };
}

/** STRICT INTEGER columns refuse 1.5; byte counts and ids are rounded defensively at the edge. */
export function int(v: number | null | undefined): number | null {
  return v === null || v === undefined || !Number.isFinite(v) ? null : Math.round(v);
}

/** REAL columns: NaN/Infinity become NULL (SQLite would store NaN as NULL anyway, Infinity as-is). */
export function real(v: number | null | undefined): number | null {
  return v === null || v === undefined || !Number.isFinite(v) ? null : v;
}
