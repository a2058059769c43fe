/**
 * Reads an official YOLOv5 `.pt` checkpoint: the unpickled object tree is walked like
 * `nn.Module.state_dict()` does (parameters, persistent buffers, then children, recursively) to
 * produce state_dict names in PyTorch's order. Follows YOLOv5 models/experimental.py
 * `attempt_load` (prefer `ema` over `model`) and train.py's checkpoint keys.
 */
import type { HostTensor, NamedTensors } from '../host-tensor.js';
import { numel } from '../host-tensor.js';
import { ncSchema } from '../../../shared/train-config.js';
import { WeightsFormatError } from './errors.js';
import { limitError, WEIGHTS_LIMITS } from './limits.js';
import { PyObject } from './pickle.js';
import { readTorchCheckpoint, TorchTensor } from './torch-pickle.js';

/** What FreezeLab needs from a YOLOv5 checkpoint. */
export interface YoloCheckpoint {
  /** state_dict of the chosen model, e.g. `model.0.conv.weight`, `model.24.anchors`. */
  tensors: NamedTensors;
  /** The model's `yaml` dict (nc, depth_multiple, width_multiple, anchors, backbone, head, ...). */
  yaml: Record<string, unknown>;
  /** Class names in class-index order. */
  names: string[];
  nc: number;
  /** `epoch` as saved: -1 for a finished (stripped) checkpoint, null when absent. */
  epoch: number | null;
  /** Which entry the tensors came from: the EMA model of a training checkpoint, or `model`. */
  source: 'ema' | 'model';
  /** The model's `stride` tensor (e.g. [8, 16, 32]) when saved. */
  stride: number[] | null;
  /** Everything else worth showing: `modelClass`, `date`, `git`, `best_fitness`, `opt`, `hyp`... */
  meta: Record<string, unknown>;
}

type PyDict = Map<unknown, unknown>;

/** Most classes a model may have: what a run accepts (ncSchema). */
const MAX_NC = ncSchema.maxValue ?? 1000;

/** True for an unpickled `nn.Module` (its state holds `_modules` and `_parameters`). */
function isModule(v: unknown): v is PyObject & { state: PyDict } {
  return (
    v instanceof PyObject &&
    v.state instanceof Map &&
    v.state.get('_modules') instanceof Map &&
    v.state.get('_parameters') instanceof Map
  );
}

function plainTensor(t: TorchTensor): HostTensor {
  return t.sourceDType === undefined
    ? { dtype: t.dtype, shape: t.shape, data: t.data }
    : { dtype: t.dtype, shape: t.shape, data: t.data, sourceDType: t.sourceDType };
}

/** nn.Module.state_dict(): own parameters, persistent buffers, then children in order. */
function collectStateDict(
  module: PyObject & { state: PyDict },
  prefix: string,
  out: NamedTensors,
  file: string,
  path: Set<PyObject> = new Set(),
): void {
  // a module inside itself would recurse forever; nn.Module trees are finite and shallow
  if (path.has(module)) {
    throw new WeightsFormatError(
      file,
      `refused: module ${prefix.slice(0, -1) || '(root)'} contains itself (a cycle in the module tree); the checkpoint is damaged or crafted`,
    );
  }
  if (path.size >= WEIGHTS_LIMITS.PICKLE_MAX_DEPTH) {
    throw limitError(file, 'PICKLE_MAX_DEPTH', `modules nest more than ${path.size} deep`);
  }
  const state = module.state;
  const nonPersistent = state.get('_non_persistent_buffers_set');
  const skip = nonPersistent instanceof Set ? nonPersistent : new Set<unknown>();
  const add = (group: string, isBuffer: boolean): void => {
    const entries = state.get(group);
    if (!(entries instanceof Map)) return;
    for (const [name, t] of entries) {
      if (t === null || (isBuffer && skip.has(name))) continue;
      if (!(t instanceof TorchTensor)) {
        throw new WeightsFormatError(
          file,
          `${group} entry ${prefix}${String(name)} is not a tensor; the checkpoint is damaged or not a YOLOv5 model`,
        );
      }
      out.set(`${prefix}${String(name)}`, plainTensor(t));
    }
  };
  add('_parameters', false);
  add('_buffers', true);
  for (const [name, child] of state.get('_modules') as PyDict) {
    if (child === null || child === undefined) continue;
    if (!isModule(child)) continue; // a non-module attribute stored in _modules carries no weights
    path.add(module);
    collectStateDict(child, `${prefix}${String(name)}.`, out, file, path);
    path.delete(module);
  }
}

/** What {@link toPlain} may still produce; shared across one conversion. */
interface PlainBudget {
  readonly file: string;
  /** Values still allowed (PICKLE_MAX_EXPANDED): a shared object counts once per copy. */
  left: number;
}

/**
 * Converts unpickled values into JSON-friendly ones: dicts -> objects, tuples/sets -> arrays,
 * bigints -> numbers (or strings when unsafe), small tensors -> `{dtype, shape, data}`.
 * The output is a tree, so an object shared N times is copied N times: a pickle DAG of depth d
 * would expand to 2^d values. Copies count against PICKLE_MAX_EXPANDED and nesting against
 * PICKLE_MAX_DEPTH (recursion), and either overrun throws WeightsFormatError naming `file`.
 */
export function toPlain(
  v: unknown,
  file: string,
  budget: PlainBudget = { file, left: WEIGHTS_LIMITS.PICKLE_MAX_EXPANDED },
): unknown {
  return plain(v, new Set(), budget);
}

function plain(v: unknown, seen: Set<unknown>, budget: PlainBudget): unknown {
  if (--budget.left < 0) {
    throw limitError(budget.file, 'PICKLE_MAX_EXPANDED', 'the checkpoint metadata expands to too many values');
  }
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (typeof v !== 'object') return v;
  if (seen.has(v)) return '[circular]';
  if (seen.size >= WEIGHTS_LIMITS.PICKLE_MAX_DEPTH) {
    throw limitError(budget.file, 'PICKLE_MAX_DEPTH', `the checkpoint metadata nests more than ${seen.size} deep`);
  }
  seen.add(v);
  const toPlain = (x: unknown): unknown => plain(x, seen, budget);
  try {
    if (v instanceof TorchTensor) {
      const small = numel(v.shape) <= 1024; // large tensors (optimizer state) are never materialised
      return small
        ? {
            dtype: v.dtype,
            shape: [...v.shape],
            data: Array.from(v.data as ArrayLike<number | bigint>, toPlain),
          }
        : { dtype: v.dtype, shape: [...v.shape] };
    }
    if (v instanceof Uint8Array) return Array.from(v);
    if (v instanceof Map) {
      const o: Record<string, unknown> = {};
      for (const [k, x] of v) o[String(k)] = toPlain(x);
      return o;
    }
    if (Array.isArray(v) || v instanceof Set) return Array.from(v, toPlain);
    if (v instanceof PyObject) {
      if (isModule(v)) return { __class__: v.__class__ };
      return { __class__: v.__class__, args: toPlain(v.args), state: toPlain(v.state) };
    }
    return String(v);
  } finally {
    seen.delete(v);
  }
}

function readNames(raw: unknown, nc: number | undefined, file: string): string[] {
  // String() of a nested or cyclic list recurses; a class name is always a plain value
  const name = (n: unknown): string => {
    if (n !== null && typeof n === 'object') {
      throw new WeightsFormatError(file, 'holds a class name that is not text; the checkpoint is damaged or crafted');
    }
    return String(n);
  };
  if (Array.isArray(raw)) return raw.map(name);
  if (raw instanceof Map) {
    // {0: 'person', 1: 'bicycle', ...} (YOLOv5 >= 7.0 data yamls) in index order
    return [...raw.entries()].sort((a, b) => Number(a[0]) - Number(b[0])).map(([, n]) => name(n));
  }
  const count = nc ?? 0;
  if (count > MAX_NC) {
    throw new WeightsFormatError(file, `refused: nc is ${count}, over the limit of ${MAX_NC} classes (MAX_NC)`);
  }
  return Array.from({ length: count }, (_, i) => String(i)); // YOLOv5's default names
}

const UNSUPPORTED_HEADS: Record<string, string> = {
  'models.yolo.SegmentationModel': 'a YOLOv5 segmentation model',
  'models.yolo.ClassificationModel': 'a YOLOv5 classification model',
};

/**
 * Reads a YOLOv5 `.pt` checkpoint held in memory. `file` names the file in error messages.
 * Throws WeightsFormatError (damaged, not YOLOv5) or UnsafeCheckpointError (forbidden global).
 */
export function readYoloCheckpoint(bytes: Uint8Array, file: string): YoloCheckpoint {
  return yoloCheckpointFromObject(readTorchCheckpoint(bytes, file), file);
}

/** The YOLOv5 checkpoint inside an unpickled object tree (what {@link readYoloCheckpoint} walks). */
export function yoloCheckpointFromObject(root: unknown, file: string): YoloCheckpoint {
  let model: unknown;
  let source: 'ema' | 'model' = 'model';
  let top: PyDict = new Map();
  if (root instanceof Map) {
    top = root;
    if (isModule(root.get('ema'))) {
      model = root.get('ema');
      source = 'ema';
    } else {
      model = root.get('model');
    }
  } else {
    model = root; // torch.save(model)
  }
  if (!isModule(model)) {
    const keys = root instanceof Map ? [...root.keys()].map(String).join(', ') : typeof root;
    throw new WeightsFormatError(
      file,
      `is a PyTorch checkpoint but holds no YOLOv5 model (keys: ${keys || 'none'}); use a YOLOv5 .pt file such as yolov5n.pt or a train.py checkpoint`,
    );
  }
  const unsupported = UNSUPPORTED_HEADS[model.__class__];
  if (unsupported)
    throw new WeightsFormatError(file, `is ${unsupported}; FreezeLab fine-tunes YOLOv5 detection models`);
  const budget: PlainBudget = { file, left: WEIGHTS_LIMITS.PICKLE_MAX_EXPANDED };
  const yamlRaw = model.state.get('yaml');
  const yaml = toPlain(yamlRaw, file, budget);
  if (
    !(yamlRaw instanceof Map) ||
    yaml === null ||
    typeof yaml !== 'object' ||
    !('backbone' in yaml) ||
    !('head' in yaml)
  ) {
    throw new WeightsFormatError(
      file,
      `holds a ${model.__class__} without a YOLOv5 model description (yaml with backbone and head); it is not a YOLOv5 detection checkpoint`,
    );
  }
  const yamlObj = yaml as Record<string, unknown>;
  const ncRaw = yamlObj.nc ?? model.state.get('nc');
  const ncNum = typeof ncRaw === 'bigint' ? Number(ncRaw) : ncRaw;
  const names = readNames(model.state.get('names'), typeof ncNum === 'number' ? ncNum : undefined, file);
  const nc = typeof ncNum === 'number' && Number.isInteger(ncNum) && ncNum > 0 ? ncNum : names.length;

  const tensors: NamedTensors = new Map();
  collectStateDict(model, '', tensors, file);
  if (tensors.size === 0) throw new WeightsFormatError(file, `holds a ${model.__class__} without any weights`);

  const strideRaw = model.state.get('stride');
  const stride = strideRaw instanceof TorchTensor ? Array.from(strideRaw.data as ArrayLike<number>, Number) : null;
  const epochRaw = top.get('epoch');
  const epoch = typeof epochRaw === 'number' ? epochRaw : typeof epochRaw === 'bigint' ? Number(epochRaw) : null;

  const meta: Record<string, unknown> = { modelClass: model.__class__ };
  for (const [k, v] of top) {
    if (k === 'model' || k === 'ema' || k === 'optimizer' || k === 'epoch') continue;
    meta[String(k)] = isModule(v) ? { __class__: v.__class__ } : toPlain(v, file, budget);
  }
  if (model.state.has('hyp') && !('hyp' in meta)) meta.hyp = toPlain(model.state.get('hyp'), file, budget);
  return { tensors, yaml: yamlObj, names, nc, epoch, source, stride, meta };
}
