/**
 * Everything a run needs before its first batch: data, model and weights, freeze choice, hyp,
 * loader, optimizer, schedule and EMA. Follows YOLOv5 train.py v7.0 set-up order.
 */
import os from 'node:os';
import type * as tf from '@tensorflow/tfjs';
import { isFrozenParam, parseFreezeSpec, resolveFreeze } from '../../../shared/freeze.js';
import type { ResolvedTrainConfig, TrainConfig } from '../../../shared/train-config.js';
import { loadDataConfig, type DataConfig } from '../data/config.js';
import { cacheBytes } from '../data/cache.js';
import { createTrainLoader, type TrainLoader } from '../data/loader.js';
import type { ImageScan } from '../data/scan.js';
import { scanSplit } from '../eval/validate.js';
import {
  hasPlaceholderAnchors,
  instantiateModel,
  resolveModelSource,
  withAnchorCount,
  type ModelSource,
} from '../model/source.js';
import { anchorPixels, setAnchorPixels } from '../model/anchors.js';
import type { YoloModel } from '../model/forward.js';
import { detectBlock } from '../model/graph.js';
import { registerTrainingKernels } from '../tf/index.js';
import { loadWeightsFile } from '../weights/index.js';
import { BPR_THRESHOLD, checkAnchors, roundToHalf, type CheckAnchorsResult } from './autoanchor.js';
import { ModelEMA } from './ema.js';
import { trainingConvBnAct } from './fused-kernel.js';
import { resolveHyp, scaleHypForModel, type ScaledHyp } from './hyp.js';
import type { LoadedHyp } from './hyp.js';
import { lossContextFromModel, type LossContext } from './loss.js';
import { trainableParams, YoloSgd } from './optimizer.js';
import { scaledWeightDecay, TrainSchedule } from './schedule.js';
import { FreezeLabError } from '../../../shared/result.js';

export interface TrainSetup {
  readonly data: DataConfig;
  readonly valImages: readonly ImageScan[];
  readonly source: ModelSource;
  readonly model: YoloModel;
  readonly frozenModules: readonly number[];
  /** First module the backward pass reaches; modules before it run outside the gradient tape. */
  readonly firstTrainable: number;
  readonly trainableVars: tf.Variable[];
  readonly trainableParams: number;
  readonly totalParams: number;
  readonly hyp: LoadedHyp;
  readonly scaledHyp: ScaledHyp;
  /** Anchors and scaled hyp for the loss; rebuilt when a resumed state brings its own anchors. */
  lossContext: LossContext;
  readonly loader: TrainLoader;
  readonly optimizer: YoloSgd;
  readonly schedule: TrainSchedule;
  readonly ema: ModelEMA;
  /** Module indices whose BatchNorm stays in eval mode (`bnFrozen: 'freeze'`). */
  readonly bnEvalModules: ReadonlySet<number>;
  readonly warnings: readonly string[];
  dispose(): void;
}

/** Anchors per level a hyp file's `anchors` key asks for (YOLOv5 rounds it; 0 or absent: none). */
function hypAnchorCount(hyp: LoadedHyp): number | undefined {
  return hyp.hyp.anchors ? Math.round(hyp.hyp.anchors) : undefined;
}

/**
 * Refuses a run whose anchors would be placeholders (a hyp `anchors` key, or a model YAML giving
 * an anchor count) with AutoAnchor off: YOLOv5 would train on anchors 0,1,2,3,... pixels.
 */
export function requireAnchorSizes(source: ModelSource, hyp: LoadedHyp, autoanchor: boolean): void {
  const count = hypAnchorCount(hyp);
  if (autoanchor || (count === undefined && !hasPlaceholderAnchors(source))) return;
  throw new FreezeLabError(
    'invalid-input',
    `${count === undefined ? source.label : hyp.source} asks for ${count ?? source.yaml.anchors} anchors per level ` +
      'computed from the labels (it gives no anchor sizes), but AutoAnchor is off.',
    `Turn AutoAnchor on, or give anchor sizes (remove 'anchors' from the hyp file, or list them in the model YAML).`,
  );
}

async function buildModel(
  config: TrainConfig,
  data: DataConfig,
  hyp: LoadedHyp,
): Promise<{ source: ModelSource; model: YoloModel }> {
  const opts = { nc: data.nc, names: data.names };
  // A hyp `anchors: N` (hyp.VOC.yaml): YOLOv5 builds the model with N placeholder anchors per
  // level and takes no anchors from the weights; AutoAnchor then computes them from the labels.
  const count = hypAnchorCount(hyp);
  const spec = config.model ?? config.weights;
  if (spec === undefined) throw new FreezeLabError('invalid-input', 'Give weights or a model to train.');
  const resolved = await resolveModelSource(spec, opts);
  const source = count === undefined ? resolved : withAnchorCount(resolved, count);
  requireAnchorSizes(source, hyp, config.autoanchor);
  const { model } = instantiateModel(source, { seed: config.seed, excludeAnchors: count !== undefined });
  if (config.model !== undefined && config.weights !== undefined) {
    // A model YAML (or size) plus weights: transfer what matches; anchors come from the YAML.
    const weights = await loadWeightsFile(config.weights);
    model.loadTensors(weights.tensors, { source: config.weights, excludeAnchors: true, seed: config.seed });
  }
  return { source, model };
}

/** Most bytes of decoded images kept in memory without being asked (`--cache` lifts it). */
const AUTO_CACHE_BYTES = 2 ** 30;

/**
 * Decoded, resized training images are kept in memory when they take little: the batches are
 * the same (the cache holds what load_image returns), and each image is then decoded once rather
 * than four times an epoch (mosaic), which frees a core on small machines for the training
 * workers. At most 1 GiB and a tenth of the machine's memory.
 */
export function smallEnoughToCache(bytes: number): boolean {
  return bytes <= Math.min(AUTO_CACHE_BYTES, os.totalmem() / 10);
}

/** What a split loses to bad data, with counts, or undefined when nothing (details: `freezelab check`). */
export function skippedNote(split: 'train' | 'val', scans: readonly ImageScan[]): string | undefined {
  const skipped = scans.filter((s) => !s.ok).length;
  const rows = scans.reduce((a, s) => a + (s.ok ? s.droppedRows : 0), 0);
  if (skipped === 0 && rows === 0) return undefined;
  const parts = [
    skipped > 0 ? `${skipped} of ${scans.length} images skipped (unreadable or too small)` : undefined,
    rows > 0 ? `${rows} label ${rows === 1 ? 'row' : 'rows'} dropped (malformed or out of range)` : undefined,
  ].filter(Boolean);
  return `The ${split} split: ${parts.join(', ')}. Run "freezelab check" (or Check dataset) for each file and line.`;
}

export interface SetupOptions {
  /** A resumed run keeps the anchors of its saved state: AutoAnchor does not run again. */
  readonly resuming?: boolean;
  onWarning?(message: string): void;
  onInfo?(message: string): void;
}

/**
 * AutoAnchor on the model's Detect anchors (train.py: after the loaders, unless --noautoanchor or
 * resuming), then anchors rounded through float16 as `model.half().float()` does.
 */
function autoAnchor(
  model: YoloModel,
  images: readonly ImageScan[],
  config: TrainConfig,
  anchorT: number,
): CheckAnchorsResult {
  const result = checkAnchors(images, anchorPixels(model), {
    imgSize: config.imgSize,
    anchorT,
    strides: detectBlock(model.graph).strides,
    seed: config.seed,
  });
  if (result.replaced) setAnchorPixels(model, result.anchors, roundToHalf);
  return result;
}

/**
 * The modules a run freezes: the list resolved when the run was queued (a `ResolvedTrainConfig`),
 * else (a plain `TrainConfig`: tests, benches, runs queued before schema 5) its freeze spec
 * resolved against the built model's graph, once, here.
 */
function frozenModulesOf(config: TrainConfig | ResolvedTrainConfig, graph: YoloModel['graph']): readonly number[] {
  if (!('frozenModules' in config)) return resolveFreeze(parseFreezeSpec(config.freeze), graph.summary);
  const known = new Set(graph.modules.map((m) => m.index));
  const unknown = config.frozenModules.filter((i) => !known.has(i));
  if (unknown.length > 0) {
    throw new FreezeLabError(
      'invalid-input',
      `Freeze '${config.freeze}' was resolved to modules this model does not have (${unknown.join(', ')}).`,
    );
  }
  return config.frozenModules;
}

export async function setupTraining(
  config: TrainConfig | ResolvedTrainConfig,
  opts: SetupOptions = {},
): Promise<TrainSetup> {
  const onWarning = (m: string) => opts.onWarning?.(m);
  registerTrainingKernels();
  const data = await loadDataConfig(config.data);
  const [trainImages, valImages] = await Promise.all([scanSplit(data, 'train'), scanSplit(data, 'val')]);
  const usable = trainImages.filter((i) => i.ok);
  if (usable.length === 0) {
    throw new FreezeLabError(
      'bad-file',
      `${data.yamlFile}: the train split has no readable image.`,
      'Run "Check dataset".',
    );
  }
  if (!valImages.some((i) => i.ok)) {
    throw new FreezeLabError(
      'bad-file',
      `${data.yamlFile}: the val split has no readable image.`,
      'Run "Check dataset".',
    );
  }
  for (const [split, scans] of [
    ['train', trainImages],
    ['val', valImages],
  ] as const) {
    const note = skippedNote(split, scans);
    if (note) opts.onWarning?.(note);
  }
  const hyp = await resolveHyp(config.hyp);
  const { source, model } = await buildModel(config, data, hyp);
  model.convBnAct = trainingConvBnAct;
  const graph = model.graph;
  const frozenModules = frozenModulesOf(config, graph);
  const frozen = (name: string) => isFrozenParam(name, frozenModules);
  const params = trainableParams(model.params, frozen);
  const frozenSet = new Set(frozenModules);
  const firstTrainable = graph.modules.find(
    (m) => !frozenSet.has(m.index) && graph.tensors.some((t) => t.module === m.index && t.kind === 'param'),
  )?.index;
  if (firstTrainable === undefined || params.length === 0) {
    throw new FreezeLabError('invalid-input', `Freeze '${config.freeze}' freezes every module: nothing would train.`);
  }
  const count = (list: { variable: tf.Variable }[]) => list.reduce((a, p) => a + p.variable.size, 0);
  const warnings: string[] = [...hyp.warnings];
  const decodedBytes = cacheBytes(usable, config.imgSize);
  const cache = config.cache || smallEnoughToCache(decodedBytes);
  if (cache && !config.cache) {
    opts.onInfo?.(
      `The ${usable.length} training images are kept decoded in memory (${(decodedBytes / 1e6).toFixed(0)} MB): ` +
        'each is decoded once, not every epoch; the batches are the same.',
    );
  }
  const loader = createTrainLoader(usable, {
    imgSize: config.imgSize,
    batchSize: config.batch,
    hyp: hyp.hyp,
    augment: true,
    seed: config.seed,
    cache: cache ? 'ram' : false,
    shuffle: true,
    onWarning: (m) => {
      warnings.push(m);
      onWarning(m);
    },
  });
  const nl = graph.modules[graph.summary.detectIndex]?.inputs.length ?? 3;
  const scaledHyp = scaleHypForModel(hyp.hyp, { nc: graph.nc, nl, imgSize: config.imgSize });
  const optimizer = new YoloSgd(params, { weightDecay: scaledWeightDecay(hyp.hyp.weight_decay, config.batch) });
  const schedule = new TrainSchedule({
    hyp: hyp.hyp,
    epochs: config.epochs,
    batchesPerEpoch: loader.batchesPerEpoch,
    batchSize: config.batch,
  });
  const anchorResult =
    config.autoanchor && !opts.resuming ? autoAnchor(model, usable, config, hyp.hyp.anchor_t) : undefined;
  if (anchorResult) {
    // A replacement, or anchors that fit poorly and could not be bettered, is worth a warning.
    if (anchorResult.before.bpr <= BPR_THRESHOLD) {
      warnings.push(anchorResult.message);
      onWarning(anchorResult.message);
    } else opts.onInfo?.(anchorResult.message);
  }
  // YOLOv5 builds its EMA just before AutoAnchor, so the EMA's anchors follow the new ones over the
  // first updates (after two, the old ones weigh 5e-7); here the EMA starts from them.
  const ema = new ModelEMA(model);
  return {
    data,
    valImages,
    source,
    model,
    frozenModules,
    firstTrainable,
    trainableVars: params.map((p) => p.variable),
    trainableParams: count(params),
    totalParams: count([...model.params.values()]),
    hyp,
    scaledHyp,
    lossContext: lossContextFromModel(model, scaledHyp),
    loader,
    optimizer,
    schedule,
    ema,
    bnEvalModules: config.bnFrozen === 'freeze' ? frozenSet : new Set(),
    warnings,
    dispose() {
      optimizer.dispose();
      ema.dispose();
      model.dispose();
    },
  };
}
