/**
 * One entry point for weights files: dispatches by content (not by extension) to the YOLOv5 `.pt`
 * reader or FreezeLab's safetensors checkpoint reader.
 */
import { readFile } from 'node:fs/promises';
import type { NamedTensors } from '../host-tensor.js';
import { decodeCheckpoint } from './checkpoint.js';
import { WeightsFormatError } from './errors.js';
import { readYoloCheckpoint } from './pt.js';
import { looksLikeSafetensors } from './safetensors.js';
import { looksLikeZip } from './zip.js';

export { saveCheckpoint, loadCheckpoint, decodeCheckpoint, CHECKPOINT_FORMAT } from './checkpoint.js';
export type { CheckpointMeta, LoadedCheckpoint } from './checkpoint.js';
export { readYoloCheckpoint } from './pt.js';
export type { YoloCheckpoint } from './pt.js';
export { WeightsFormatError, UnsafeCheckpointError } from './errors.js';

/** Weights and the model description, whatever file they came from. */
export interface LoadedWeights {
  format: 'pt' | 'safetensors';
  /** state_dict names in PyTorch layout, e.g. `model.0.conv.weight` (OIHW). */
  tensors: NamedTensors;
  /** YOLOv5 model yaml dict (nc, depth_multiple, width_multiple, anchors, backbone, head). */
  yaml: Record<string, unknown>;
  names: string[];
  nc: number;
  epoch: number | null;
  /**
   * `.pt`: modelClass, source ('ema' | 'model'), stride, date, git, hyp... as saved.
   * safetensors: freeze, hyp and extra from CheckpointMeta.
   */
  meta: Record<string, unknown>;
}

const SUPPORTED = 'FreezeLab reads YOLOv5 PyTorch checkpoints (.pt) and FreezeLab checkpoints (.safetensors)';

/** Decodes weights held in memory; `file` names the file in error messages. */
export function decodeWeights(bytes: Uint8Array, file: string): LoadedWeights {
  if (bytes.length === 0) throw new WeightsFormatError(file, `is empty; ${SUPPORTED}`);
  if (looksLikeZip(bytes)) {
    const c = readYoloCheckpoint(bytes, file);
    return {
      format: 'pt',
      tensors: c.tensors,
      yaml: c.yaml,
      names: c.names,
      nc: c.nc,
      epoch: c.epoch,
      meta: { ...c.meta, source: c.source, stride: c.stride },
    };
  }
  if (looksLikeSafetensors(bytes)) {
    const { tensors, meta } = decodeCheckpoint(bytes, file);
    const ncRaw = meta.yaml.nc;
    const nc = typeof ncRaw === 'number' && Number.isInteger(ncRaw) && ncRaw > 0 ? ncRaw : meta.names.length;
    const extra: Record<string, unknown> = {};
    if (meta.freeze !== undefined) extra.freeze = meta.freeze;
    if (meta.hyp !== undefined) extra.hyp = meta.hyp;
    if (meta.extra !== undefined) extra.extra = meta.extra;
    return { format: 'safetensors', tensors, yaml: meta.yaml, names: meta.names, nc, epoch: meta.epoch, meta: extra };
  }
  const hint =
    bytes.length >= 2 && bytes[0] === 0x80 && bytes[1]! <= 5
      ? ' (it looks like a legacy, non-zip torch.save file from PyTorch < 1.6; re-save it with a recent PyTorch)'
      : '';
  throw new WeightsFormatError(file, `is not a recognised weights file${hint}; ${SUPPORTED}`);
}

/** Reads a weights file from disk and decodes it by content. */
export async function loadWeightsFile(file: string): Promise<LoadedWeights> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, not a file' : (err as Error).message;
    throw new WeightsFormatError(file, `cannot be read: ${why}`);
  }
  return decodeWeights(bytes, file);
}
