/**
 * Runs, sweeps, epochs and resource samples as plain data (no Node, no DOM): what the run store
 * keeps, the job runner writes and the UI shows. Byte counts are integers, times are ms since the
 * Unix epoch unless a field says otherwise.
 */
import { z } from 'zod';
import type { ClassMetrics, EvalResult } from './metrics.js';

/** Lifecycle of a run. `interrupted` means the process running it died without saying why. */
export const runStatusSchema = z.enum(['queued', 'running', 'completed', 'failed', 'cancelled', 'interrupted']);
export type RunStatus = z.infer<typeof runStatusSchema>;
export const RUN_STATUSES: readonly RunStatus[] = runStatusSchema.options;

/**
 * Legal status changes. `completed` is final; a failed, cancelled or interrupted run may be queued
 * again (resume from its last epoch or retry); only a queued run can start.
 */
export const RUN_TRANSITIONS: { readonly [S in RunStatus]: readonly RunStatus[] } = {
  queued: ['running', 'cancelled', 'failed'],
  running: ['completed', 'failed', 'cancelled', 'interrupted'],
  completed: [],
  failed: ['queued'],
  cancelled: ['queued'],
  interrupted: ['queued', 'failed', 'cancelled'],
};

/** Whether `from -> to` is a legal status change (see {@link RUN_TRANSITIONS}). */
export function canTransition(from: RunStatus, to: RunStatus): boolean {
  return RUN_TRANSITIONS[from].includes(to);
}

/** Statuses after which nothing more will be written to a run unless it is queued again. */
export function isFinished(status: RunStatus): boolean {
  return status !== 'queued' && status !== 'running';
}

/**
 * Statuses a run can be resumed from (queued again, continuing after its last epoch): those the
 * lifecycle lets go back to `queued`, i.e. interrupted, failed and cancelled.
 */
export const RESUMABLE_STATUSES: readonly RunStatus[] = RUN_STATUSES.filter((s) => canTransition(s, 'queued'));

/** Whether a run in `status` can be resumed (see {@link RESUMABLE_STATUSES}). */
export function isResumable(status: RunStatus): boolean {
  return RESUMABLE_STATUSES.includes(status);
}

/**
 * How BatchNorm layers of frozen modules behave: keep updating running stats (`update`, YOLOv5's
 * behaviour), or freeze them (`freeze`: eval-mode statistics). Stored as the runs table's
 * `bn_policy` and as the training config's `bnFrozen`.
 */
export const bnPolicySchema = z.enum(['update', 'freeze']);
export type BnPolicy = z.infer<typeof bnPolicySchema>;
export const BN_POLICIES: readonly BnPolicy[] = bnPolicySchema.options;

/** What a caller supplies to create a run; the store fills id, status and timestamps. */
export interface NewRun {
  readonly name: string;
  readonly sweepId?: number | null;
  /** The full training configuration, stored as JSON so a run can be repeated exactly. */
  readonly config: unknown;
  readonly datasetPath: string;
  readonly datasetFingerprint?: string | null;
  readonly weightsPath?: string | null;
  readonly weightsSha256?: string | null;
  /** Model label, e.g. 'yolov5n' or a yaml file name. */
  readonly model: string;
  readonly imgSize: number;
  readonly batch: number;
  readonly epochs: number;
  /** Canonical freeze spec text (`formatFreezeSpec`). */
  readonly freezeSpec: string;
  readonly frozenModules?: readonly number[];
  readonly bnPolicy: BnPolicy;
  readonly hypName?: string | null;
  readonly backend?: string | null;
  readonly trainableParams?: number | null;
  readonly totalParams?: number | null;
  readonly seed?: number;
}

/** A run as stored. */
export interface RunRecord {
  readonly id: number;
  readonly createdAt: number;
  readonly name: string;
  readonly sweepId: number | null;
  readonly status: RunStatus;
  /** Why the run is in its status (error message, "cancelled by user", ...), when known. */
  readonly statusReason: string | null;
  readonly config: unknown;
  readonly datasetPath: string;
  readonly datasetFingerprint: string | null;
  readonly weightsPath: string | null;
  readonly weightsSha256: string | null;
  readonly model: string;
  readonly imgSize: number;
  readonly batch: number;
  readonly epochs: number;
  readonly freezeSpec: string;
  readonly frozenModules: readonly number[];
  readonly bnPolicy: BnPolicy;
  readonly hypName: string | null;
  readonly backend: string | null;
  readonly trainableParams: number | null;
  readonly totalParams: number | null;
  readonly seed: number;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  /** Process running it (while `running`). */
  readonly pid: number | null;
  /** Last epoch recorded (0-based), -1 before the first. */
  readonly lastEpochDone: number;
  /** Best YOLOv5 fitness so far and the first epoch that reached it (YOLOv5 keeps the earliest). */
  readonly bestFitness: number | null;
  readonly bestEpoch: number | null;
}

/** Metrics of one finished epoch. Validation metrics are null when the epoch was not validated. */
export interface EpochRecord {
  /** 0-based, as YOLOv5 counts. */
  readonly epoch: number;
  readonly boxLoss: number | null;
  readonly objLoss: number | null;
  readonly clsLoss: number | null;
  /** Learning rates of the three parameter groups at the end of the epoch (YOLOv5 lr0/lr1/lr2). */
  readonly lr: readonly [number | null, number | null, number | null];
  readonly precision: number | null;
  readonly recall: number | null;
  readonly map50: number | null;
  readonly map50_95: number | null;
  readonly fitness: number | null;
  /** Wall time of the epoch (training + validation). */
  readonly seconds: number;
  readonly imagesPerSecond: number | null;
  readonly peakTensorBytes: number | null;
  readonly peakRssBytes: number | null;
  /** GPU memory of the training process when nvidia-smi measured it, else null. */
  readonly peakGpuMemBytes: number | null;
}

/** One resource reading. Null fields were not measured. */
export interface ResourceSample {
  readonly tMs: number;
  readonly tensorBytes: number | null;
  readonly rssBytes: number | null;
  /** Device memory used (all processes), summed over GPUs. */
  readonly gpuMemUsedBytes: number | null;
  /** Utilization in percent (highest GPU). */
  readonly gpuUtil: number | null;
  /** GPU memory used by the measured process. */
  readonly processGpuMemBytes: number | null;
}

export type ArtifactKind = 'best' | 'last' | 'export';

export interface Artifact {
  readonly id: number;
  readonly runId: number;
  readonly kind: ArtifactKind;
  readonly path: string;
  readonly sha256: string | null;
  readonly bytes: number | null;
  readonly epoch: number | null;
  readonly createdAt: number;
}

export interface Sweep {
  readonly id: number;
  readonly createdAt: number;
  readonly name: string;
  readonly config: unknown;
}

/** Headline metrics of one epoch, as lists and comparisons show them. */
export interface EpochHeadline {
  readonly epoch: number;
  readonly precision: number | null;
  readonly recall: number | null;
  readonly map50: number | null;
  readonly map50_95: number | null;
  readonly fitness: number | null;
}

/** A run with its last and best epoch metrics: one row of the runs list. */
export interface RunSummary {
  readonly run: RunRecord;
  readonly last: EpochHeadline | null;
  readonly best: EpochHeadline | null;
}

/** The final evaluation of a run's weights (PR curves and confusion matrix for the detail view). */
export interface FinalEvaluation {
  readonly runId: number;
  readonly createdAt: number;
  /** Which weights were evaluated. */
  readonly weights: 'best' | 'last';
  /** Dataset split, e.g. 'val' or 'test'. */
  readonly split: string;
  readonly result: EvalResult;
}

/** Everything the run detail view shows. */
export type RunNoteLevel = 'info' | 'warning';

/** Something a run said about itself while it trained (AutoAnchor, micro-batches, warnings). */
export interface RunNote {
  readonly createdAt: number;
  readonly level: RunNoteLevel;
  readonly message: string;
}

export interface RunDetail {
  readonly run: RunRecord;
  /** Notes the run recorded, oldest first. */
  readonly notes: readonly RunNote[];
  readonly epochs: readonly EpochRecord[];
  /** Per-class AP of the best epoch (the last one if no epoch was validated). */
  readonly classAp: readonly ClassMetrics[];
  readonly artifacts: readonly Artifact[];
  readonly evaluation: FinalEvaluation | null;
}

/** Which memory figure a comparison uses: process GPU memory when measured, else live tensor bytes. */
export type MemoryKind = 'gpu' | 'tensor';

/** One run in a comparison table (see `src/shared/compare.ts`). */
export interface ComparisonRow {
  readonly runId: number;
  readonly name: string;
  readonly status: RunStatus;
  readonly model: string;
  readonly freezeSpec: string;
  /** Human label of what was frozen, e.g. 'backbone', 'none', 'modules 0-4'. */
  readonly freezeLabel: string;
  readonly frozenModuleCount: number;
  readonly epochsDone: number;
  readonly finalMap50: number | null;
  readonly finalMap50_95: number | null;
  /** Metrics of the best-fitness epoch (the checkpoint YOLOv5 saves as best.pt). */
  readonly bestMap50: number | null;
  readonly bestMap50_95: number | null;
  /** The best-fitness epoch, 1-based (a display row: CSV and JSON exports carry it as read). */
  readonly bestEpoch: number | null;
  /** GPU figure when any epoch measured it, else peak tensor bytes; `peakMemoryKind` says which. */
  readonly peakMemoryBytes: number | null;
  readonly peakMemoryKind: MemoryKind | null;
  /** Both figures, so runs measured differently can still be compared on a common one. */
  readonly peakGpuMemBytes: number | null;
  readonly peakTensorBytes: number | null;
  readonly peakRssBytes: number | null;
  /** Mean wall time per epoch. */
  readonly secondsPerEpoch: number | null;
  readonly trainableParams: number | null;
  readonly totalParams: number | null;
  // What makes runs comparable (see `configKey` in compare.ts), and the seed that repeats vary.
  readonly seed: number;
  readonly datasetPath: string;
  /** Content hash of the dataset; runs on the same data compare even when moved. */
  readonly datasetFingerprint: string | null;
  readonly weightsPath: string | null;
  readonly weightsSha256: string | null;
  readonly imgSize: number;
  readonly batch: number;
  /** Planned epochs (`epochsDone` is what was recorded). */
  readonly epochs: number;
  readonly hypName: string | null;
  /** sha256 of the hyp file when the hyp is a file (set by the service, which can read it). */
  readonly hypSha256: string | null;
  /** Backend asked for; null = automatic. */
  readonly backend: string | null;
  readonly bnPolicy: BnPolicy;
}
