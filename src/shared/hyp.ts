/**
 * YOLOv5 training hyper-parameters: the key set of `data/hyps/hyp.*.yaml` (v7.0), the built-in
 * presets as data, and the validity range of each key. Pure data and types: the product never reads
 * the official YAML files; tests check these values against them. Loading a user's YAML file lives
 * in `src/main/engine/train/hyp.ts`.
 */

/** The hyper-parameter keys of hyp.scratch-low.yaml, in file order. */
export const HYP_KEYS = [
  'lr0',
  'lrf',
  'momentum',
  'weight_decay',
  'warmup_epochs',
  'warmup_momentum',
  'warmup_bias_lr',
  'box',
  'cls',
  'cls_pw',
  'obj',
  'obj_pw',
  'iou_t',
  'anchor_t',
  'fl_gamma',
  'hsv_h',
  'hsv_s',
  'hsv_v',
  'degrees',
  'translate',
  'scale',
  'shear',
  'perspective',
  'flipud',
  'fliplr',
  'mosaic',
  'mixup',
  'copy_paste',
] as const;

/** A required hyper-parameter key. */
export type HypKey = (typeof HYP_KEYS)[number];

/**
 * One hyper-parameter set. `anchors` (anchors per output level, hyp.VOC.yaml) is optional as in
 * YOLOv5, where train.py only uses it when present and non-zero.
 */
export type Hyp = { readonly [K in HypKey]: number } & { readonly anchors?: number };

/** Names of the built-in hyper-parameter sets. */
export type HypPresetName = 'scratch-low' | 'finetune' | 'VOC';

/** The default preset, as YOLOv5 v7.0 train.py (`--hyp data/hyps/hyp.scratch-low.yaml`). */
export const DEFAULT_HYP_PRESET: HypPresetName = 'scratch-low';

/** hyp.scratch-low.yaml (v7.0): low-augmentation COCO training from scratch; YOLOv5's default. */
const SCRATCH_LOW: Hyp = {
  lr0: 0.01,
  lrf: 0.01,
  momentum: 0.937,
  weight_decay: 0.0005,
  warmup_epochs: 3.0,
  warmup_momentum: 0.8,
  warmup_bias_lr: 0.1,
  box: 0.05,
  cls: 0.5,
  cls_pw: 1.0,
  obj: 1.0,
  obj_pw: 1.0,
  iou_t: 0.2,
  anchor_t: 4.0,
  fl_gamma: 0.0,
  hsv_h: 0.015,
  hsv_s: 0.7,
  hsv_v: 0.4,
  degrees: 0.0,
  translate: 0.1,
  scale: 0.5,
  shear: 0.0,
  perspective: 0.0,
  flipud: 0.0,
  fliplr: 0.5,
  mosaic: 1.0,
  mixup: 0.0,
  copy_paste: 0.0,
};

/** hyp.finetune.yaml: the VOC fine-tuning set the YOLOv5 freeze guide trained with. */
const FINETUNE: Hyp = {
  lr0: 0.0032,
  lrf: 0.12,
  momentum: 0.843,
  weight_decay: 0.00036,
  warmup_epochs: 2.0,
  warmup_momentum: 0.5,
  warmup_bias_lr: 0.05,
  box: 0.0296,
  cls: 0.243,
  cls_pw: 0.631,
  obj: 0.301,
  obj_pw: 0.911,
  iou_t: 0.2,
  anchor_t: 2.91,
  fl_gamma: 0.0,
  hsv_h: 0.0138,
  hsv_s: 0.664,
  hsv_v: 0.464,
  degrees: 0.373,
  translate: 0.245,
  scale: 0.898,
  shear: 0.602,
  perspective: 0.0,
  flipud: 0.00856,
  fliplr: 0.5,
  mosaic: 1.0,
  mixup: 0.243,
  copy_paste: 0.0,
};

/** hyp.VOC.yaml (v7.0): evolved for VOC, the successor of hyp.finetune.yaml. */
const VOC: Hyp = {
  lr0: 0.0033,
  lrf: 0.15184,
  momentum: 0.74747,
  weight_decay: 0.00025,
  warmup_epochs: 3.4278,
  warmup_momentum: 0.59032,
  warmup_bias_lr: 0.18742,
  box: 0.02,
  cls: 0.21563,
  cls_pw: 0.5,
  obj: 0.50843,
  obj_pw: 0.6729,
  iou_t: 0.2,
  anchor_t: 3.4172,
  fl_gamma: 0.0,
  hsv_h: 0.01032,
  hsv_s: 0.5562,
  hsv_v: 0.28255,
  degrees: 0.0,
  translate: 0.04575,
  scale: 0.73711,
  shear: 0.0,
  perspective: 0.0,
  flipud: 0.0,
  fliplr: 0.5,
  mosaic: 0.87158,
  mixup: 0.04294,
  copy_paste: 0.0,
  anchors: 3.3556,
};

/** The built-in presets by name. */
export const HYP_PRESETS: Readonly<Record<HypPresetName, Hyp>> = {
  'scratch-low': SCRATCH_LOW,
  finetune: FINETUNE,
  VOC,
};

/** Preset descriptions for the UI and CLI help. */
export const HYP_PRESET_INFO: readonly { id: HypPresetName; file: string; description: string }[] = [
  {
    id: 'scratch-low',
    file: 'hyp.scratch-low.yaml',
    description: "YOLOv5's default: low augmentation, lr0 0.01.",
  },
  {
    id: 'finetune',
    file: 'hyp.finetune.yaml',
    description: 'The set the YOLOv5 freeze guide used: lr0 0.0032, mixup 0.243, stronger geometry.',
  },
  { id: 'VOC', file: 'hyp.VOC.yaml', description: 'Evolved on VOC (successor of hyp.finetune.yaml).' },
];

/** True when `name` is a built-in preset name. */
export function isHypPresetName(name: string): name is HypPresetName {
  return Object.prototype.hasOwnProperty.call(HYP_PRESETS, name);
}

/** Valid range of a key: inclusive bounds unless `minExclusive` / `maxExclusive`. */
export interface HypRange {
  readonly min: number;
  readonly max: number;
  readonly minExclusive?: boolean;
  readonly maxExclusive?: boolean;
  /** Why the bound exists, for the error message. */
  readonly why: string;
}

const PROB: HypRange = { min: 0, max: 1, why: 'a probability' };
const GAIN: HypRange = { min: 0, max: Infinity, why: 'a loss gain' };
const FRACTION: HypRange = { min: 0, max: 1, why: 'a fraction' };

/**
 * Validity ranges (what the training code can run with, not YOLOv5's evolution bounds, which are
 * narrower than some official presets).
 */
export const HYP_RANGES: Readonly<Record<HypKey | 'anchors', HypRange>> = {
  lr0: { min: 0, max: 1, minExclusive: true, why: 'a learning rate' },
  lrf: { min: 0, max: 1, minExclusive: true, why: 'the final learning rate as a fraction of lr0' },
  momentum: { min: 0, max: 1, maxExclusive: true, why: 'an SGD momentum' },
  weight_decay: { min: 0, max: 0.1, why: 'a weight decay' },
  warmup_epochs: { min: 0, max: 1000, why: 'a number of epochs' },
  warmup_momentum: { min: 0, max: 1, maxExclusive: true, why: 'an SGD momentum' },
  warmup_bias_lr: { min: 0, max: 1, why: 'a learning rate' },
  box: GAIN,
  cls: GAIN,
  cls_pw: { min: 0, max: Infinity, minExclusive: true, why: 'a BCE positive weight' },
  obj: GAIN,
  obj_pw: { min: 0, max: Infinity, minExclusive: true, why: 'a BCE positive weight' },
  iou_t: { min: 0, max: 1, why: 'an IoU threshold' },
  anchor_t: { min: 1, max: Infinity, minExclusive: true, why: 'a ratio threshold above 1' },
  fl_gamma: { min: 0, max: 10, why: 'a focal-loss gamma' },
  hsv_h: FRACTION,
  hsv_s: FRACTION,
  hsv_v: FRACTION,
  degrees: { min: 0, max: 180, why: 'an angle in degrees' },
  translate: FRACTION,
  scale: { min: 0, max: 1, maxExclusive: true, why: 'a scale gain (images scale by 1 +/- scale)' },
  shear: { min: 0, max: 45, why: 'a shear angle in degrees' },
  perspective: { min: 0, max: 0.01, why: 'a perspective fraction (YOLOv5 uses 0 to 0.001)' },
  flipud: PROB,
  fliplr: PROB,
  mosaic: PROB,
  mixup: PROB,
  copy_paste: PROB,
  anchors: { min: 0, max: 100, why: 'a number of anchors per level (0 to ignore)' },
};

/** Whether `value` lies in `range`. */
export function inHypRange(value: number, range: HypRange): boolean {
  if (!Number.isFinite(value)) return false;
  const lowOk = range.minExclusive ? value > range.min : value >= range.min;
  const highOk = range.maxExclusive ? value < range.max : value <= range.max;
  return lowOk && highOk;
}

/** Human text of a range, e.g. `(0, 1]`. */
export function formatHypRange(range: HypRange): string {
  const lo = `${range.minExclusive ? '(' : '['}${range.min}`;
  const hi = `${range.max === Infinity ? 'inf' : range.max}${range.maxExclusive || range.max === Infinity ? ')' : ']'}`;
  return `${lo}, ${hi}`;
}
