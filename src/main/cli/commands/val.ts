import { loadDataConfig } from '../../engine/data/config.js';
import { type ValidateResult, validate } from '../../engine/eval/validate.js';
import { instantiateModel, modelYamlToObject, resolveModelSource } from '../../engine/model/source.js';
import { poolDetector, startInferencePool } from '../../engine/parallel/data-parallel.js';
import { defaultWorkerCount } from '../../engine/parallel/pool.js';
import { MAX_WORKERS } from '../../../shared/train-config.js';
import { initBackend } from '../../engine/tf/backend.js';
import { type CliCommand, UsageError, failureLine, floatOption, intOption, stringOption } from '../cli.js';
import { BACKEND_WORDS, backendOption } from '../service-factory.js';

/** Python's '%.3g'. */
function g3(v: number): string {
  return String(Number(v.toPrecision(3)));
}

/** The table val.py prints: all classes, then one row per class with labels. */
export function formatValTable(r: ValidateResult): string {
  const head = ['Class', 'Images', 'Instances', 'P', 'R', 'mAP50', 'mAP50-95'];
  const row = (
    name: string,
    images: number,
    instances: number,
    p: number,
    rr: number,
    m50: number,
    m: number,
  ): string =>
    name.padStart(22) +
    [String(images), String(instances), g3(p), g3(rr), g3(m50), g3(m)].map((s) => s.padStart(11)).join('');
  const lines = [
    head[0]!.padStart(22) +
      head
        .slice(1)
        .map((s) => s.padStart(11))
        .join(''),
    row('all', r.images, r.instances, r.precision, r.recall, r.map50, r.map50_95),
    ...r.perClass.map((c) => row(c.name, c.images, c.instances, c.precision, c.recall, c.ap50, c.ap50_95)),
  ];
  return `${lines.join('\n')}\n`;
}

export const valCommand: CliCommand = {
  name: 'val',
  summary: 'Evaluate a model on a dataset split: P, R, mAP50, mAP50-95 per class (as YOLOv5 val.py).',
  help: [
    'Usage: freezelab val --weights W --data D [--img 640] [--batch 16] [--split val]',
    '                     [--conf 0.001] [--iou 0.6] [--backend NAME] [--workers N] [--json]',
    '',
    '  --weights W     a .pt / .safetensors checkpoint (or n, s, m, l, x: untrained)',
    '  --data D        the dataset YAML (like coco128.yaml)',
    '  --img N         input long side in pixels; --batch N: images per forward pass',
    '  --split NAME    val (default), train or test',
    `  --backend NAME  ${BACKEND_WORDS} (default: the best that loads)`,
    '  --workers N     batches run on N threads at once, each with its own model copy',
    '                  (default: one per core on WASM/CPU, 1 on native TensorFlow)',
    '',
    'Progress goes to stderr; the table (or JSON) to stdout.',
  ].join('\n'),
  options: {
    weights: { type: 'string' },
    data: { type: 'string' },
    img: { type: 'string' },
    batch: { type: 'string' },
    split: { type: 'string' },
    conf: { type: 'string' },
    iou: { type: 'string' },
    backend: { type: 'string' },
    workers: { type: 'string' },
  },
  async run(values, _positionals, io) {
    const weights = stringOption(values, 'weights');
    const data = stringOption(values, 'data');
    const imgSize = intOption(values, 'img', 640, 32, 8192);
    const batchSize = intOption(values, 'batch', 16, 1, 1024);
    const split = values.split ?? 'val';
    if (split !== 'val' && split !== 'train' && split !== 'test') {
      throw new UsageError(`--split takes val, train or test, got '${String(split)}'.`);
    }
    const conf = floatOption(values, 'conf', 0.001, 0, 1);
    const iou = floatOption(values, 'iou', 0.6, 0, 1);
    const prefer = backendOption(values);
    const asked = values.workers === undefined ? undefined : intOption(values, 'workers', 1, 1, MAX_WORKERS);
    try {
      const cfg = await loadDataConfig(data);
      const backend = await initBackend(prefer ? { prefer } : {});
      // A checkpoint keeps its own classes (validate refuses a mismatch); a bare architecture takes the dataset's.
      let src = await resolveModelSource(weights);
      if (!src.weights) src = await resolveModelSource(weights, { nc: cfg.nc, names: cfg.names });
      if (!src.weights) io.err(`freezelab val: ${src.label} has no trained weights; its metrics mean nothing.\n`);
      const { model } = instantiateModel(src);
      const workers =
        backend.name === 'wasm' || backend.name === 'cpu' ? (asked ?? defaultWorkerCount(backend.name)) : 1;
      let result: ValidateResult;
      const pool =
        workers > 1
          ? await startInferencePool(model, modelYamlToObject(src.yaml, model.graph.nc), workers, backend.name).catch(
              (error: unknown) => {
                model.dispose();
                throw error;
              },
            )
          : undefined;
      try {
        result = await validate(model, {
          ...(pool ? { detector: poolDetector(pool) } : {}),
          data: cfg,
          split,
          imgSize,
          batchSize,
          conf,
          iou,
          onProgress: (p) =>
            io.err(
              `val: batch ${p.batch}/${p.batches}, ${p.images}/${p.totalImages} images, ${p.seconds.toFixed(1)} s\n`,
            ),
        });
      } finally {
        await pool?.close();
        model.dispose();
      }
      if (values.json) {
        io.out(`${JSON.stringify({ weights: src.label, data: cfg.yamlFile, backend: backend.name, ...result })}\n`);
        return 0;
      }
      io.out(formatValTable(result));
      io.out(
        `Speed: ${result.inferenceMs.toFixed(1)} ms inference, ${result.nmsMs.toFixed(1)} ms NMS per image at ` +
          `batch ${result.batchSize}, img ${result.imgSize} on ${backend.name}` +
          `${workers > 1 ? ` (${workers} workers; NMS counted with inference)` : ''}; ${result.images} images in ` +
          `${result.seconds.toFixed(1)} s (${result.imagesPerSecond.toFixed(2)} images/s), peak tensor memory ` +
          `${(result.peakTensorBytes / 2 ** 20).toFixed(0)} MiB\n`,
      );
      return 0;
    } catch (error) {
      io.err(failureLine('val', error));
      return 1;
    }
  },
};
