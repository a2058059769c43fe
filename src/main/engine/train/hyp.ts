/**
 * Hyper-parameters for training: a built-in preset or a user's YOLOv5 hyp YAML file, validated, and
 * the per-model gain scaling train.py applies before building the loss.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import {
  DEFAULT_HYP_PRESET,
  HYP_KEYS,
  HYP_PRESETS,
  HYP_RANGES,
  formatHypRange,
  inHypRange,
  isHypPresetName,
  type Hyp,
  type HypKey,
} from '../../../shared/hyp.js';
import { FreezeLabError } from '../../../shared/result.js';

/** Hyper-parameters as the loss uses them: gains scaled for the model, plus label smoothing. */
export type ScaledHyp = Hyp & { readonly label_smoothing: number };

/** What {@link scaleHypForModel} needs to know about the model and the run. */
export interface HypScaling {
  /** Number of classes. */
  readonly nc: number;
  /** Number of Detect levels (3, or 4 for P6 models). */
  readonly nl: number;
  /** Training image size in pixels. */
  readonly imgSize: number;
  /** Label smoothing epsilon (train.py `--label-smoothing`, default 0). */
  readonly labelSmoothing?: number;
}

/**
 * Scales the loss gains as YOLOv5 v7.0 train.py does before creating ComputeLoss:
 * box *= 3/nl, cls *= nc/80 * 3/nl, obj *= (img/640)^2 * 3/nl; sets label_smoothing.
 */
export function scaleHypForModel(hyp: Hyp, s: HypScaling): ScaledHyp {
  const layers = 3 / s.nl;
  return {
    ...hyp,
    box: hyp.box * layers,
    cls: ((hyp.cls * s.nc) / 80) * layers,
    obj: hyp.obj * (s.imgSize / 640) ** 2 * layers,
    label_smoothing: s.labelSmoothing ?? 0,
  };
}

/** A hyp YAML file a user gave cannot be used: names the file, the key and what to do. */
export class HypFileError extends FreezeLabError {
  constructor(
    readonly file: string,
    readonly key: string | undefined,
    message: string,
    hint?: string,
  ) {
    super('bad-file', message, hint);
    this.name = 'HypFileError';
  }
}

/** A validated hyper-parameter set and what validation noticed. */
export interface LoadedHyp {
  readonly hyp: Hyp;
  /** `scratch-low`, `finetune`, `VOC` or the file's path. */
  readonly source: string;
  /** Unknown keys ignored, missing keys filled from scratch-low. */
  readonly warnings: readonly string[];
}

const KNOWN = new Set<string>([...HYP_KEYS, 'anchors']);

/**
 * Validates a parsed hyp YAML document: unknown key -> warning (ignored), missing key -> warning and
 * the scratch-low default, non-numeric or out-of-range value -> {@link HypFileError}.
 */
export function validateHyp(doc: unknown, file: string): LoadedHyp {
  const name = path.basename(file);
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new HypFileError(
      file,
      undefined,
      `${name}: a hyperparameter file must be a YAML mapping of key: number (like hyp.scratch-low.yaml).`,
      'Start from a copy of one of the built-in sets (scratch-low, finetune, VOC).',
    );
  }
  const entries = doc as Record<string, unknown>;
  const warnings: string[] = [];
  const out: Record<string, number> = {};
  for (const [key, raw] of Object.entries(entries)) {
    if (!KNOWN.has(key)) {
      warnings.push(`${name}: unknown key '${key}' ignored (YOLOv5 v7.0 has no such hyperparameter).`);
      continue;
    }
    if (key === 'anchors' && (raw === null || raw === undefined)) continue;
    if (typeof raw !== 'number') {
      const shown = typeof raw === 'string' ? `'${raw}'` : JSON.stringify(raw);
      throw new HypFileError(
        file,
        key,
        `${name}: '${key}' must be a number, got ${shown ?? String(raw)}.`,
        `Write it as a plain number, e.g. '${key}: ${HYP_PRESETS[DEFAULT_HYP_PRESET][key as HypKey] ?? 3}'.`,
      );
    }
    const range = HYP_RANGES[key as HypKey | 'anchors'];
    if (!inHypRange(raw, range)) {
      throw new HypFileError(
        file,
        key,
        `${name}: '${key}' is ${raw}, outside ${formatHypRange(range)} (${range.why}).`,
        `Use a value in ${formatHypRange(range)}; YOLOv5's default is ${HYP_PRESETS[DEFAULT_HYP_PRESET][key as HypKey] ?? 'unset'}.`,
      );
    }
    out[key] = raw;
  }
  const defaults = HYP_PRESETS[DEFAULT_HYP_PRESET];
  const missing = HYP_KEYS.filter((k) => !(k in out));
  for (const k of missing) out[k] = defaults[k];
  if (missing.length > 0) {
    warnings.push(`${name}: missing ${missing.join(', ')}; using the scratch-low values.`);
  }
  return { hyp: out as unknown as Hyp, source: file, warnings };
}

/** Parses hyp YAML text; `file` names the file in errors. */
export function parseHypYaml(text: string, file: string): LoadedHyp {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (error) {
    const why = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new HypFileError(file, undefined, `${path.basename(file)}: not valid YAML (${why}).`);
  }
  return validateHyp(doc, file);
}

/** Reads and validates a user's hyp YAML file. */
export async function loadHypFile(file: string): Promise<LoadedHyp> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new FreezeLabError(
      'not-found',
      `${file}: cannot read this hyperparameter file.`,
      'Check the path, or use a built-in set: scratch-low, finetune, VOC.',
    );
  }
  return parseHypYaml(text, file);
}

/** A built-in preset name (`scratch-low`, `finetune`, `VOC`, case-insensitive) or a path to a .yaml file. */
export async function resolveHyp(spec: string | undefined): Promise<LoadedHyp> {
  const wanted = (spec ?? DEFAULT_HYP_PRESET).trim();
  const preset = presetName(wanted);
  if (preset) return { hyp: HYP_PRESETS[preset], source: preset, warnings: [] };
  return loadHypFile(path.resolve(wanted));
}

function presetName(spec: string): keyof typeof HYP_PRESETS | undefined {
  // Only bare names are presets: `hyp.finetune.yaml` is a file the user may have edited.
  if (/\.ya?ml$/i.test(spec) || /[\\/]/.test(spec)) return undefined;
  const match = Object.keys(HYP_PRESETS).find((k) => k.toLowerCase() === spec.toLowerCase());
  return match !== undefined && isHypPresetName(match) ? match : undefined;
}
