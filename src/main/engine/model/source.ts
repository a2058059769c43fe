/**
 * One entry point from what a user types (`n`, `yolov5s`, `my.yaml`, `best.pt`, `last.safetensors`)
 * to a model graph, and optionally a model with its weights loaded. The CLI, the service and the
 * trainer all resolve models here, so they agree on what a name means.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { FreezeLabError } from '../../../shared/result.js';
import { loadWeightsFile, type LoadedWeights } from '../weights/index.js';
import { builtinModelYaml, isBuiltinModel, type BuiltinModel } from './builtin.js';
import { YoloModel } from './forward.js';
import { buildGraph, type ModelGraph } from './graph.js';
import type { LoadReport } from './load.js';
import { modelYamlFromObject, parseModelYaml, type ModelYaml } from './yaml.js';

export interface ModelSource {
  readonly kind: 'builtin' | 'yaml' | 'weights';
  /** What to show: `yolov5n`, or the file's name. */
  readonly label: string;
  /** The file, for yaml and weights. */
  readonly file?: string;
  readonly yaml: ModelYaml;
  readonly graph: ModelGraph;
  /** Class names: from the weights, or `class0..` when nothing names them. */
  readonly names: readonly string[];
  readonly weights?: LoadedWeights;
}

export interface ResolveOptions {
  /** Number of classes of the model to build (another nc re-initialises the Detect convs). */
  readonly nc?: number;
  /** Class names for that nc (e.g. from a dataset). */
  readonly names?: readonly string[];
}

const SHORT_NAMES: Record<string, BuiltinModel> = {
  n: 'yolov5n',
  s: 'yolov5s',
  m: 'yolov5m',
  l: 'yolov5l',
  x: 'yolov5x',
};

/** The built-in model a spec names, if any (`n`, `yolov5n`, `YOLOv5n`). */
export function builtinName(spec: string): BuiltinModel | undefined {
  const lower = spec.trim().toLowerCase();
  const name = SHORT_NAMES[lower] ?? lower;
  return isBuiltinModel(name) ? name : undefined;
}

function defaultNames(nc: number): string[] {
  return Array.from({ length: nc }, (_, i) => `class${i}`);
}

function namesFor(nc: number, given: readonly string[] | undefined, fromFile: readonly string[]): readonly string[] {
  if (given && given.length === nc) return given;
  if (fromFile.length === nc) return fromFile;
  return defaultNames(nc);
}

export async function resolveModelSource(spec: string, opts: ResolveOptions = {}): Promise<ModelSource> {
  const builtin = builtinName(spec);
  if (builtin) {
    const yaml = builtinModelYaml(builtin, opts.nc ?? 80);
    const graph = buildGraph(yaml);
    return { kind: 'builtin', label: builtin, yaml, graph, names: namesFor(graph.nc, opts.names, []) };
  }
  const file = path.resolve(spec);
  const info = await stat(file).catch(() => undefined);
  if (!info) {
    throw new FreezeLabError(
      'not-found',
      `${spec}: no such file, and not a built-in model name.`,
      'Use n, s, m, l, x (or yolov5n ... yolov5x), a model .yaml, or a .pt / .safetensors weights file.',
    );
  }
  if (!info.isFile()) throw new FreezeLabError('bad-file', `${spec} is a folder, not a model file.`);
  if (/\.ya?ml$/i.test(file)) {
    const yaml = parseModelYaml(await readFile(file, 'utf8'), file);
    const graph = buildGraph(yaml, opts.nc !== undefined ? { nc: opts.nc } : {});
    return {
      kind: 'yaml',
      label: path.basename(file),
      file,
      yaml,
      graph,
      names: namesFor(graph.nc, opts.names, []),
    };
  }
  const weights = await loadWeightsFile(file);
  const yaml = modelYamlFromObject(weights.yaml, file);
  const graph = buildGraph(yaml, { nc: opts.nc ?? weights.nc });
  return {
    kind: 'weights',
    label: path.basename(file),
    file,
    yaml,
    graph,
    names: namesFor(graph.nc, opts.names, weights.names),
    weights,
  };
}

/**
 * The same model with `count` placeholder anchors per level, as YOLOv5's Model(anchors=N) builds
 * it for a hyp file's `anchors` key; AutoAnchor computes the real ones from the data.
 */
export function withAnchorCount(source: ModelSource, count: number): ModelSource {
  const yaml: ModelYaml = { ...source.yaml, anchors: count };
  return { ...source, yaml, graph: buildGraph(yaml, { nc: source.graph.nc }) };
}

/** True when the model's anchors are placeholders (an anchor count instead of sizes). */
export function hasPlaceholderAnchors(source: ModelSource): boolean {
  return typeof source.yaml.anchors === 'number';
}

export interface InstantiatedModel {
  readonly model: YoloModel;
  /** What loading the weights did (absent for a fresh model). */
  readonly load?: LoadReport;
}

/** Creates the tfjs model (on the current backend) and loads the source's weights into it. */
export function instantiateModel(
  source: ModelSource,
  opts: { seed?: number; excludeAnchors?: boolean } = {},
): InstantiatedModel {
  const model = YoloModel.create(source.graph, { seed: opts.seed ?? 0 });
  if (!source.weights) return { model };
  try {
    const load = model.loadTensors(source.weights.tensors, {
      source: source.file ?? source.label,
      seed: opts.seed ?? 0,
      ...(opts.excludeAnchors ? { excludeAnchors: true } : {}),
    });
    return { model, load };
  } catch (error) {
    model.dispose();
    throw error;
  }
}

/** The inverse of `modelYamlFromObject`: YOLOv5's yaml dict, as checkpoints store it. */
export function modelYamlToObject(yaml: ModelYaml, nc: number): Record<string, unknown> {
  const rows = (list: ModelYaml['backbone']) => list.map((r) => [r.from, r.number, r.module, r.args]);
  return {
    nc,
    depth_multiple: yaml.depthMultiple,
    width_multiple: yaml.widthMultiple,
    anchors: yaml.anchors,
    backbone: rows(yaml.backbone),
    head: rows(yaml.head),
  };
}
