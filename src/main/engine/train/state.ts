/**
 * What a run writes to its folder, and how a resume reads it back.
 * - `best.safetensors` / `last.safetensors`: the EMA weights (what YOLOv5 saves as the model and
 *   what detection and validation use), with the model YAML, class names, epoch, freeze and hyp.
 * - `last-state.safetensors`: everything an exact resume needs, in one file written atomically: the
 *   raw model's weights and BatchNorm statistics, the EMA weights, optimizer momentum and pending
 *   gradients, EMA update count, schedule position and best fitness. Tensor names carry a prefix
 *   (`model/`, `ema/`, `momentum/`, `pending/`).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { NamedTensors } from '../host-tensor.js';
import { loadCheckpoint, saveCheckpoint, type CheckpointMeta } from '../weights/index.js';

export const CHECKPOINT_FILES = {
  best: 'best.safetensors',
  last: 'last.safetensors',
  state: 'last-state.safetensors',
} as const;

export interface TrainState {
  /** Last completed epoch (0-based). */
  readonly epoch: number;
  readonly model: NamedTensors;
  readonly ema: NamedTensors;
  readonly momentum: NamedTensors;
  readonly pending: { readonly batches: number; readonly grads: NamedTensors };
  readonly optimizerSteps: number;
  readonly emaUpdates: number;
  readonly lastOptStep: number;
  readonly bestFitness: number;
  readonly bestEpoch: number;
}

const PREFIXES = ['model/', 'ema/', 'momentum/', 'pending/'] as const;

export async function saveTrainState(runDir: string, state: TrainState, meta: CheckpointMeta): Promise<string> {
  const tensors: NamedTensors = new Map();
  const add = (prefix: string, named: NamedTensors) => {
    for (const [name, t] of named) tensors.set(`${prefix}${name}`, t);
  };
  add('model/', state.model);
  add('ema/', state.ema);
  add('momentum/', state.momentum);
  add('pending/', state.pending.grads);
  const file = path.join(runDir, CHECKPOINT_FILES.state);
  await saveCheckpoint(file, tensors, {
    ...meta,
    epoch: state.epoch,
    extra: {
      ...meta.extra,
      trainState: {
        pendingBatches: state.pending.batches,
        optimizerSteps: state.optimizerSteps,
        emaUpdates: state.emaUpdates,
        lastOptStep: state.lastOptStep,
        bestFitness: state.bestFitness,
        bestEpoch: state.bestEpoch,
      },
    },
  });
  return file;
}

/** Reads the resume state of a run folder, or undefined when the run never finished an epoch. */
export async function loadTrainState(runDir: string): Promise<TrainState | undefined> {
  const stateFile = path.join(runDir, CHECKPOINT_FILES.state);
  if (!existsSync(stateFile)) return undefined;
  const saved = await loadCheckpoint(stateFile);
  const info = saved.meta.extra?.trainState as Record<string, number> | undefined;
  if (!info || saved.meta.epoch === null) throw new Error(`${stateFile}: not a FreezeLab training state.`);
  const split: Record<(typeof PREFIXES)[number], NamedTensors> = {
    'model/': new Map(),
    'ema/': new Map(),
    'momentum/': new Map(),
    'pending/': new Map(),
  };
  for (const [name, t] of saved.tensors) {
    const prefix = PREFIXES.find((p) => name.startsWith(p));
    if (prefix) split[prefix].set(name.slice(prefix.length), t);
  }
  const num = (k: string): number => {
    const v = info[k];
    if (typeof v !== 'number') throw new Error(`${stateFile}: training state lacks ${k}.`);
    return v;
  };
  return {
    epoch: saved.meta.epoch,
    model: split['model/'],
    ema: split['ema/'],
    momentum: split['momentum/'],
    pending: { batches: num('pendingBatches'), grads: split['pending/'] },
    optimizerSteps: num('optimizerSteps'),
    emaUpdates: num('emaUpdates'),
    lastOptStep: num('lastOptStep'),
    bestFitness: num('bestFitness'),
    bestEpoch: num('bestEpoch'),
  };
}
