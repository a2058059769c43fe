/**
 * Reads an Ultralytics YOLOv5 model YAML (yolov5n.yaml and friends) into a validated config.
 * Rows are `[from, number, module, args]`, as YOLOv5 models/yolo.py parse_model reads them.
 */
import { LineCounter, parseDocument } from 'yaml';
import type { Node as YamlNode } from 'yaml';
import { ncSchema } from '../../../shared/train-config.js';
import { FreezeLabError } from '../../../shared/result.js';
import { canonicalModule, REGISTERED_MODULES } from './blocks/registry.js';

/**
 * Limits of a model description, far above the largest official model (yolov5x6: depth 1.33,
 * width 1.25, 1280 channels, 140M parameters) so that a typo or a crafted file fails at once
 * instead of hanging or exhausting memory while the graph or its weights are built.
 */
export const MODEL_LIMITS = {
  MAX_DEPTH_MULTIPLE: 4,
  MAX_WIDTH_MULTIPLE: 4,
  /** A row's `number` (repeats before depth scaling). */
  MAX_NUMBER: 100,
  /** Rows in backbone plus head. */
  MAX_ROWS: 1000,
  /** Anchors per level (pairs), and levels. */
  MAX_ANCHORS: 100,
  /** Output channels of any module after width scaling (Detect excepted: it follows nc). */
  MAX_CHANNELS: 8192,
  /** Classes: what a run accepts (ncSchema). */
  MAX_NC: ncSchema.maxValue ?? 1000,
  /** Parameters and buffers of the whole model, from the graph's shapes before any allocation. */
  MAX_PARAMETERS: 1e9,
} as const;

/** An argument as written in the YAML (strings such as `nc`, `anchors`, `None` resolve later). */
export type YamlArg = number | string | boolean | null | YamlArg[];

/** One `[from, number, module, args]` row. */
export interface LayerRow {
  readonly from: number | readonly number[];
  readonly number: number;
  readonly module: string;
  readonly args: readonly YamlArg[];
  /** 1-based line in the YAML file when known. */
  readonly line?: number;
}

/** A model YAML after validation. */
export interface ModelYaml {
  /** File name (or a label such as `built-in yolov5n`) used in error messages. */
  readonly source: string;
  readonly nc: number;
  readonly depthMultiple: number;
  readonly widthMultiple: number;
  /** Anchors per level in pixels `[w0,h0, w1,h1, ...]`, or an anchor count (AutoAnchor later). */
  readonly anchors: readonly (readonly number[])[] | number;
  readonly backbone: readonly LayerRow[];
  readonly head: readonly LayerRow[];
}

/** Module names this project builds (YOLOv5 spelling; `nn.Upsample` as in the YAML files): the registry's. */
export const SUPPORTED_MODULES: readonly string[] = REGISTERED_MODULES;

/** Normalises aliases (`Upsample`, `torch.nn.Upsample`) to the names in {@link SUPPORTED_MODULES}. */
export function canonicalModuleName(name: string): string | undefined {
  return canonicalModule(name);
}

/** The model YAML is malformed or uses something this project cannot build. */
export class ModelYamlError extends FreezeLabError {
  constructor(message: string) {
    super('bad-file', message);
    this.name = 'ModelYamlError';
  }
}

type LineOf = (path: readonly (string | number)[]) => number | undefined;

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

function isArg(v: unknown): v is YamlArg {
  if (v === null || ['number', 'string', 'boolean'].includes(typeof v)) return true;
  return Array.isArray(v) && v.every(isArg);
}

/**
 * Validates a plain object (parsed YAML, or the `yaml` dict stored in a .pt checkpoint).
 * `lineOf` maps a key path to its line for messages.
 */
export function modelYamlFromObject(obj: unknown, source: string, lineOf: LineOf = () => undefined): ModelYaml {
  const at = (path: (string | number)[]): string => {
    const line = lineOf(path);
    return line === undefined ? `${source}` : `${source}: line ${line}`;
  };
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    throw new ModelYamlError(`${source}: not a model YAML (expected a mapping with nc, backbone, head)`);
  }
  const d = obj as Record<string, unknown>;
  const num = (key: string, positive: boolean): number => {
    const v = d[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || (positive && v <= 0)) {
      throw new ModelYamlError(`${at([key])}: '${key}' must be a positive number, got ${JSON.stringify(v)}`);
    }
    return v;
  };
  const limit = (path: (string | number)[], what: string, value: number, max: number, name: string): void => {
    if (value > max) {
      throw new ModelYamlError(`${at(path)}: ${what} is ${value}, over the limit of ${max} (${name})`);
    }
  };
  const nc = num('nc', true);
  if (!isInt(nc)) throw new ModelYamlError(`${at(['nc'])}: 'nc' must be a whole number, got ${nc}`);
  limit(['nc'], "'nc'", nc, MODEL_LIMITS.MAX_NC, 'MAX_NC');
  const depthMultiple = num('depth_multiple', true);
  limit(['depth_multiple'], "'depth_multiple'", depthMultiple, MODEL_LIMITS.MAX_DEPTH_MULTIPLE, 'MAX_DEPTH_MULTIPLE');
  const widthMultiple = num('width_multiple', true);
  limit(['width_multiple'], "'width_multiple'", widthMultiple, MODEL_LIMITS.MAX_WIDTH_MULTIPLE, 'MAX_WIDTH_MULTIPLE');

  const a = d.anchors;
  let anchors: number[][] | number;
  if (isInt(a) && a > 0) {
    limit(['anchors'], 'the anchor count', a, MODEL_LIMITS.MAX_ANCHORS, 'MAX_ANCHORS');
    anchors = a;
  } else if (Array.isArray(a) && a.length > 0) {
    limit(['anchors'], 'the number of anchor levels', a.length, MODEL_LIMITS.MAX_ANCHORS, 'MAX_ANCHORS');
    anchors = a.map((level, i) => {
      if (
        !Array.isArray(level) ||
        level.length === 0 ||
        level.length % 2 !== 0 ||
        !level.every((x) => typeof x === 'number' && x > 0)
      ) {
        throw new ModelYamlError(
          `${at(['anchors', i])}: anchors level ${i} must be a list of positive w,h pairs like [10,13, 16,30, 33,23]`,
        );
      }
      limit(
        ['anchors', i],
        `the anchor count of level ${i}`,
        level.length / 2,
        MODEL_LIMITS.MAX_ANCHORS,
        'MAX_ANCHORS',
      );
      return level as number[];
    });
    const na = anchors[0]?.length;
    if (anchors.some((l) => l.length !== na)) {
      throw new ModelYamlError(`${at(['anchors'])}: every anchors level must have the same number of anchors`);
    }
  } else {
    throw new ModelYamlError(
      `${at(['anchors'])}: 'anchors' must be a list of levels or an anchor count, got ${JSON.stringify(a)}`,
    );
  }

  const section = (name: 'backbone' | 'head', offset: number): LayerRow[] => {
    const rows = d[name];
    if (!Array.isArray(rows) || rows.length === 0) {
      throw new ModelYamlError(
        `${at([name])}: '${name}' must be a non-empty list of [from, number, module, args] rows`,
      );
    }
    limit([name], `the number of ${name} rows`, rows.length, MODEL_LIMITS.MAX_ROWS, 'MAX_ROWS');
    return rows.map((row: unknown, r) => {
      const where = `${at([name, r])}: ${name} row ${r} (module ${offset + r})`;
      if (!Array.isArray(row) || row.length !== 4) {
        throw new ModelYamlError(`${where}: expected [from, number, module, args], got ${JSON.stringify(row)}`);
      }
      const [from, number, module, args] = row as unknown[];
      const fromOk = isInt(from) || (Array.isArray(from) && from.length > 0 && from.every(isInt));
      if (!fromOk)
        throw new ModelYamlError(`${where}: 'from' must be an index or a list of indices, got ${JSON.stringify(from)}`);
      if (!isInt(number) || number < 1) {
        throw new ModelYamlError(`${where}: 'number' must be a whole number >= 1, got ${JSON.stringify(number)}`);
      }
      if (number > MODEL_LIMITS.MAX_NUMBER) {
        throw new ModelYamlError(
          `${where}: 'number' is ${number}, over the limit of ${MODEL_LIMITS.MAX_NUMBER} (MAX_NUMBER)`,
        );
      }
      if (typeof module !== 'string')
        throw new ModelYamlError(`${where}: module name must be a string, got ${JSON.stringify(module)}`);
      if (canonicalModuleName(module) === undefined) {
        throw new ModelYamlError(
          `${at([name, r, 2])}: unknown module '${module}' in ${name} row ${r}; supported: ${SUPPORTED_MODULES.join(', ')}`,
        );
      }
      if (!Array.isArray(args) || !args.every(isArg)) {
        throw new ModelYamlError(`${where}: 'args' must be a list, got ${JSON.stringify(args)}`);
      }
      const line = lineOf([name, r]);
      return {
        from: from as number | number[],
        number,
        module,
        args: args as YamlArg[],
        ...(line === undefined ? {} : { line }),
      };
    });
  };
  const backbone = section('backbone', 0);
  const head = section('head', backbone.length);
  return { source, nc, depthMultiple, widthMultiple, anchors, backbone, head };
}

/** Parses YAML text; `file` names the file in every error message. */
export function parseModelYaml(text: string, file: string): ModelYaml {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const line = e?.linePos?.[0]?.line;
    throw new ModelYamlError(
      `${file}${line === undefined ? '' : `: line ${line}`}: invalid YAML: ${e?.message.split('\n')[0]}`,
    );
  }
  const lineOf: LineOf = (path) => {
    // Fall back to the closest enclosing node that exists.
    for (let k = path.length; k >= 1; k--) {
      const node = doc.getIn(path.slice(0, k), true) as YamlNode | undefined;
      const start = node?.range?.[0];
      if (start !== undefined) return lineCounter.linePos(start).line;
    }
    return undefined;
  };
  let obj: unknown;
  try {
    obj = doc.toJS(); // refuses alias bombs (yaml's maxAliasCount) with a ReferenceError
  } catch (e) {
    throw new ModelYamlError(`${file}: cannot be read: ${(e as Error).message.split('\n')[0]}`);
  }
  return modelYamlFromObject(obj, file, lineOf);
}
