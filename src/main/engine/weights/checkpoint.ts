/**
 * FreezeLab's own checkpoint: a standard safetensors file whose `__metadata__` carries the model
 * yaml, class names, epoch, freeze spec and hyper-parameters as JSON strings, tagged with
 * `freezelab.format`. Files are written to a temporary sibling and renamed into place, so a crash
 * never leaves a half-written checkpoint under the real name.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { NamedTensors } from '../host-tensor.js';
import { WeightsFormatError } from './errors.js';
import { encodeSafetensors, parseSafetensors } from './safetensors.js';

/** Current format version, stored as `freezelab.format`. */
export const CHECKPOINT_FORMAT = '1';

/** What a FreezeLab checkpoint says about its tensors. */
export interface CheckpointMeta {
  /** The model description, as YOLOv5's yaml dict (nc, depth_multiple, width_multiple, anchors, backbone, head). */
  yaml: Record<string, unknown>;
  /** Class names in class-index order. */
  names: string[];
  /** Last completed epoch (0-based), -1 when final, null when unknown. */
  epoch: number | null;
  /** Freeze specification as the user gave it, e.g. `10` or `0 1 2`. */
  freeze?: string;
  /** Hyper-parameters used for training. */
  hyp?: Record<string, unknown>;
  /** Anything else (metrics, dataset, source weights, dates...), JSON-serialisable. */
  extra?: Record<string, unknown>;
}

/** A loaded FreezeLab checkpoint. */
export interface LoadedCheckpoint {
  tensors: NamedTensors;
  meta: CheckpointMeta;
}

const KEY = {
  format: 'freezelab.format',
  yaml: 'freezelab.yaml',
  names: 'freezelab.names',
  epoch: 'freezelab.epoch',
  freeze: 'freezelab.freeze',
  hyp: 'freezelab.hyp',
  extra: 'freezelab.extra',
} as const;

function metadataOf(meta: CheckpointMeta): Record<string, string> {
  const md: Record<string, string> = {
    // `format: pt` is the safetensors convention for PyTorch-layout tensors (conv weights OIHW)
    format: 'pt',
    [KEY.format]: CHECKPOINT_FORMAT,
    [KEY.yaml]: JSON.stringify(meta.yaml),
    [KEY.names]: JSON.stringify(meta.names),
    [KEY.epoch]: JSON.stringify(meta.epoch),
  };
  if (meta.freeze !== undefined) md[KEY.freeze] = meta.freeze;
  if (meta.hyp !== undefined) md[KEY.hyp] = JSON.stringify(meta.hyp);
  if (meta.extra !== undefined) md[KEY.extra] = JSON.stringify(meta.extra);
  return md;
}

/** Serializes tensors and metadata and writes them atomically to `file`. */
export async function saveCheckpoint(file: string, tensors: NamedTensors, meta: CheckpointMeta): Promise<void> {
  const enc = encodeSafetensors(tensors, metadataOf(meta));
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx');
  try {
    try {
      for (const chunk of [enc.header, ...enc.chunks]) {
        let done = 0;
        while (done < chunk.length) {
          const { bytesWritten } = await fh.write(chunk, done, chunk.length - done);
          done += bytesWritten;
        }
      }
      await fh.sync(); // data on disk before the rename makes it visible
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  // persist the rename itself where the platform allows syncing a directory (not on Windows)
  await open(dir, 'r')
    .then(async (d) => {
      await d.sync().catch(() => undefined);
      await d.close();
    })
    .catch(() => undefined);
}

function parseJson(md: Record<string, string>, key: string, file: string): unknown {
  const raw = md[key];
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    throw new WeightsFormatError(file, `checkpoint metadata ${key} is not valid JSON; the file is damaged, re-save it`);
  }
}

/** Decodes a FreezeLab checkpoint held in memory. */
export function decodeCheckpoint(bytes: Uint8Array, file: string): LoadedCheckpoint {
  const { tensors, metadata } = parseSafetensors(bytes, file);
  const version = metadata[KEY.format];
  if (version === undefined) {
    throw new WeightsFormatError(
      file,
      'is a safetensors file but not a FreezeLab checkpoint (no freezelab.format metadata, so the model description is unknown); use a FreezeLab checkpoint or a YOLOv5 .pt file',
    );
  }
  if (version !== CHECKPOINT_FORMAT) {
    throw new WeightsFormatError(
      file,
      `was written in FreezeLab checkpoint format ${version}, which this version does not read (it reads ${CHECKPOINT_FORMAT}); update FreezeLab`,
    );
  }
  const yaml = parseJson(metadata, KEY.yaml, file);
  const names = parseJson(metadata, KEY.names, file);
  const epoch = parseJson(metadata, KEY.epoch, file);
  if (yaml === null || typeof yaml !== 'object' || Array.isArray(yaml)) {
    throw new WeightsFormatError(file, 'checkpoint metadata lacks the model yaml; the file is damaged, re-save it');
  }
  if (!Array.isArray(names) || !names.every((n) => typeof n === 'string')) {
    throw new WeightsFormatError(file, 'checkpoint metadata lacks the class names; the file is damaged, re-save it');
  }
  const meta: CheckpointMeta = {
    yaml: yaml as Record<string, unknown>,
    names,
    epoch: typeof epoch === 'number' ? epoch : null,
  };
  const freeze = metadata[KEY.freeze];
  if (freeze !== undefined) meta.freeze = freeze;
  const hyp = parseJson(metadata, KEY.hyp, file);
  if (hyp !== undefined) meta.hyp = hyp as Record<string, unknown>;
  const extra = parseJson(metadata, KEY.extra, file);
  if (extra !== undefined) meta.extra = extra as Record<string, unknown>;
  return { tensors, meta };
}

/** Reads a FreezeLab checkpoint from disk. */
export async function loadCheckpoint(file: string): Promise<LoadedCheckpoint> {
  return decodeCheckpoint(await readFile(file), file);
}
