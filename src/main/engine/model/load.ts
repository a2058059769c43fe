/**
 * Decides which checkpoint tensors go into a model. Follows YOLOv5 train.py fine-tuning: every
 * tensor whose name and shape match is transferred (utils/torch_utils.py intersect_dicts); when
 * only the Detect output convs differ (another nc), those start fresh with the bias prior.
 * Anything else that does not fit is another architecture and fails with the first mismatches.
 */
import type { NamedTensors } from '../host-tensor.js';
import type { ModelGraph } from './graph.js';
import { FreezeLabError } from '../../../shared/result.js';

/** Options for loading a checkpoint into a model. */
export interface LoadOptions {
  /** Checkpoint file name for messages. */
  readonly source?: string;
  /** Keep the model's anchors (YOLOv5 excludes them when a model YAML or hyp anchors are given). */
  readonly excludeAnchors?: boolean;
  /** Accept a checkpoint that lacks some of the model's tensors (they keep their current values). */
  readonly allowPartial?: boolean;
}

/** A checkpoint tensor that was not loaded, and why. */
export interface SkippedTensor {
  readonly name: string;
  readonly reason: 'shape' | 'unexpected' | 'excluded';
  readonly checkpointShape?: readonly number[];
  readonly modelShape?: readonly number[];
}

/** What a load did. */
export interface LoadReport {
  /** Model tensors copied from the checkpoint. */
  readonly loaded: string[];
  /** Checkpoint tensors not used. */
  readonly skipped: SkippedTensor[];
  /** Model tensors the checkpoint does not have (kept as they were). */
  readonly missing: string[];
  /** Detect output tensors re-initialised because their shape differs (another nc). */
  readonly reinitialised: string[];
}

/** The checkpoint does not fit the model. */
export class ModelLoadError extends FreezeLabError {
  constructor(message: string) {
    super('bad-file', message);
    this.name = 'ModelLoadError';
  }
}

const fmt = (s: readonly number[]): string => `[${s.join(',')}]`;
const sameShape = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((v, i) => v === b[i]);

/** Plans a load (pure): throws {@link ModelLoadError} when the checkpoint is another architecture. */
export function planLoad(graph: ModelGraph, named: NamedTensors, opts: LoadOptions = {}): LoadReport {
  const src = opts.source ?? 'checkpoint';
  const detectConvs = `model.${graph.summary.detectIndex}.m.`;
  const anchorsName = `model.${graph.summary.detectIndex}.anchors`;
  const loaded: string[] = [];
  const skipped: SkippedTensor[] = [];
  const missing: string[] = [];
  const reinitialised: string[] = [];
  const fatal: string[] = [];
  const known = new Set<string>();
  for (const t of graph.tensors) {
    known.add(t.name);
    const ck = named.get(t.name);
    if (!ck) {
      // Older checkpoints may lack the BatchNorm counters; nothing else may be absent.
      if (!t.name.endsWith('.num_batches_tracked') && !opts.allowPartial)
        fatal.push(`${t.name} ${fmt(t.shape)} is missing`);
      missing.push(t.name);
      continue;
    }
    if (opts.excludeAnchors && t.name === anchorsName) {
      skipped.push({ name: t.name, reason: 'excluded', checkpointShape: ck.shape, modelShape: t.shape });
      continue;
    }
    if (!sameShape(ck.shape, t.shape)) {
      skipped.push({ name: t.name, reason: 'shape', checkpointShape: ck.shape, modelShape: t.shape });
      if (t.name.startsWith(detectConvs)) reinitialised.push(t.name);
      else fatal.push(`${t.name} is ${fmt(ck.shape)} in ${src} but ${fmt(t.shape)} in ${graph.source}`);
      continue;
    }
    loaded.push(t.name);
  }
  for (const [name, ck] of named) {
    if (!known.has(name)) {
      skipped.push({ name, reason: 'unexpected', checkpointShape: ck.shape });
      if (!opts.allowPartial) fatal.push(`${name} ${fmt(ck.shape)} is not in ${graph.source}`);
    }
  }
  if (fatal.length > 0) {
    const first = fatal.slice(0, 5).join('; ');
    const more = fatal.length > 5 ? `; and ${fatal.length - 5} more` : '';
    throw new ModelLoadError(
      `${src} does not fit ${graph.source} (another architecture?): ${first}${more}. ` +
        `Pick the model that matches the checkpoint, or load the checkpoint's own model.`,
    );
  }
  return { loaded, skipped, missing, reinitialised };
}
