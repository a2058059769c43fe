/** `model.val` and `model.detect`: a model evaluated on a dataset split, or run on one image. */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Handlers } from '../../../shared/contract.js';
import { FreezeLabError } from '../../../shared/result.js';
import { loadDataConfig } from '../../engine/data/config.js';
import { prepareValLabels, type ValLabelWriter } from '../../engine/eval/save-txt.js';
import { scanSplit, type ValProgress, validate } from '../../engine/eval/validate.js';
import { nextFreeDir } from '../../engine/infer/prelabel.js';
import { detectImage } from '../../engine/infer/detect.js';
import { instantiateModel, modelYamlToObject, resolveModelSource } from '../../engine/model/source.js';
import { poolDetector, startInferencePool } from '../../engine/parallel/data-parallel.js';
import { defaultWorkerCount } from '../../engine/parallel/pool.js';
import { type BackendReport, initBackend } from '../../engine/tf/backend.js';
import type { BackendName } from '../../../shared/backend.js';
import type { ServiceContext } from '../service.js';

type InferenceHandlers = Pick<Handlers<ServiceContext>, 'model.val' | 'model.detect'>;

/** The backend a command asked for (refused if another is already loaded), else the service's. */
function backendFor(prefer: BackendName | undefined, ctx: ServiceContext): Promise<BackendReport> {
  return prefer ? initBackend({ prefer }) : ctx.backend();
}

export const inferenceHandlers: InferenceHandlers = {
  async 'model.val'(args, ctx) {
    const cfg = await loadDataConfig(args.data);
    const backend = await backendFor(args.backend, ctx);
    // A checkpoint keeps its own classes (validate refuses a mismatch); a bare architecture takes the dataset's.
    let src = await resolveModelSource(args.weights);
    if (!src.weights) src = await resolveModelSource(args.weights, { nc: cfg.nc, names: cfg.names });
    const warning = src.weights ? undefined : `${src.label} has no trained weights; its metrics mean nothing.`;
    // Saving predictions: the split is scanned here, so existing label files are refused before
    // anything is evaluated (validate then reuses the scan).
    let images;
    let labels: ValLabelWriter | undefined;
    if (args.saveTxt) {
      images = await scanSplit(cfg, args.split);
      const out = path.resolve(args.out ?? (await nextFreeDir(path.join(ctx.paths.dataDir, 'val', 'exp'))));
      labels = await prepareValLabels(images, { out, saveConf: args.saveConf, force: args.force });
    }
    const { model } = instantiateModel(src);
    const workers =
      backend.name === 'wasm' || backend.name === 'cpu' ? (args.workers ?? defaultWorkerCount(backend.name)) : 1;
    const pool =
      workers > 1
        ? await startInferencePool(model, modelYamlToObject(src.yaml, model.graph.nc), workers, backend.name).catch(
            (error: unknown) => {
              model.dispose();
              throw error;
            },
          )
        : undefined;
    let last: ValProgress | undefined;
    try {
      const result = await validate(model, {
        ...(pool ? { detector: poolDetector(pool) } : {}),
        data: cfg,
        split: args.split,
        ...(images ? { images } : {}),
        ...(labels ? { onImage: labels.write } : {}),
        imgSize: args.imgSize,
        batchSize: args.batch,
        conf: args.conf,
        iou: args.iou,
        onProgress: (p) => {
          last = p;
        },
      });
      return {
        weights: src.label,
        data: cfg.yamlFile,
        backend: backend.name,
        ...result,
        workers,
        batches: last?.batches ?? 0,
        ...(warning ? { warning } : {}),
        ...(labels ? { saved: labels.counts() } : {}),
      };
    } finally {
      await pool?.close();
      model.dispose();
    }
  },

  async 'model.detect'(args, ctx) {
    const { source } = args;
    const info = await stat(source).catch(() => undefined);
    if (!info) throw new FreezeLabError('not-found', `${source}: no such file.`, 'Give an existing image file.');
    if (!info.isFile()) {
      throw new FreezeLabError(
        'bad-file',
        `${source} is a folder; detecting shows one image file.`,
        `To label every image of a folder, pre-label it: 'freezelab detect --source "${source}" --save-txt' ` +
          '(YOLO label files as detect.py writes them), or the Pre-label section of the app.',
      );
    }
    const backend = await backendFor(args.backend, ctx);
    const src = await resolveModelSource(args.weights);
    const warning = src.weights ? undefined : `${src.label} has no trained weights; its detections mean nothing.`;
    const { model } = instantiateModel(src);
    try {
      const result = await detectImage(model, src.names, source, {
        imgSize: args.imgSize,
        conf: args.conf,
        iou: args.iou,
        maxDet: args.maxDet,
        ...(args.classes ? { classes: args.classes } : {}),
        ...(args.agnostic !== undefined ? { agnostic: args.agnostic } : {}),
      });
      return { source, weights: src.label, backend: backend.name, ...result, ...(warning ? { warning } : {}) };
    } finally {
      model.dispose();
    }
  },
};
