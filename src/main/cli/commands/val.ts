import path from 'node:path';
import type { ModelValResult, ModelValSaved } from '../../../shared/contract.js';
import { FreezeLabError } from '../../../shared/result.js';
import { MAX_WORKERS } from '../../../shared/train-config.js';
import { nextFreeDir } from '../../engine/infer/prelabel.js';
import { type CliCommand, UsageError, failureLine, floatOption, intOption, stringOption } from '../cli.js';
import { BACKEND_WORDS, backendOption, serviceFor } from '../service-factory.js';

/** Python's '%.3g'. */
function g3(v: number): string {
  return String(Number(v.toPrecision(3)));
}

/** The table val.py prints: all classes, then one row per class with labels. */
export function formatValTable(r: ModelValResult): string {
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

/** Where --save-txt wrote, as val.py's 'Results saved to' lines. */
export function formatSaved(s: ModelValSaved): string {
  const none = s.imagesWithoutPredictions;
  return (
    `Results saved to ${s.dir}\n${s.labelFiles} label files (${s.predictions} predictions` +
    `${s.saveConf ? ' with confidences' : ''}) saved to ${s.labelsDir}` +
    `${none > 0 ? `; ${none} image${none === 1 ? '' : 's'} without predictions (no file)` : ''}\n`
  );
}

export const valCommand: CliCommand = {
  name: 'val',
  summary: 'Evaluate a model on a dataset split: P, R, mAP50, mAP50-95 per class (as YOLOv5 val.py).',
  help: [
    'Usage: freezelab val --weights W --data D [--img 640] [--batch 16] [--split val]',
    '                     [--conf 0.001] [--iou 0.6] [--backend NAME] [--workers N] [--json]',
    '                     [--save-txt] [--save-conf] [--out DIR] [--force]',
    '',
    '  --weights W     a .pt / .safetensors checkpoint (or n, s, m, l, x: untrained)',
    '  --data D        the dataset YAML (like coco128.yaml)',
    '  --img N         input long side in pixels (a multiple of 32, at most 2048)',
    '  --batch N       images per forward pass',
    '  --split NAME    val (default), train or test',
    `  --backend NAME  ${BACKEND_WORDS} (default: the best that loads)`,
    '  --workers N     batches run on N threads at once, each with its own model copy',
    '                  (default: one per core on WASM/CPU, 1 on native TensorFlow)',
    '  --save-txt      also write the predictions, as val.py --save-txt: OUT/labels/STEM.txt per',
    '                  image, one line per prediction after NMS (multi-label, --conf, --iou, at',
    '                  most 300): cls cx cy w h, normalised to the original image size. An image',
    '                  without predictions gets no file (as val.py). Read back as predictions,',
    '                  these files give the mAP printed here (to ~1e-4: 6 significant digits)',
    '  --save-conf     end each line with the confidence (implies --save-txt)',
    '  --out DIR       output folder (default: the next free runs/val/exp, exp2, ... here)',
    '  --force         replace existing label files of these images (and remove those of images',
    '                  without predictions now); without it, any existing one stops val before',
    '                  it evaluates anything',
    '',
    'When done, one progress line (batches, images, seconds) and any warning go to stderr (no',
    'per-batch lines); the table (or JSON) to stdout.',
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
    'save-txt': { type: 'boolean' },
    'save-conf': { type: 'boolean' },
    out: { type: 'string' },
    force: { type: 'boolean' },
  },
  async run(values, _positionals, io) {
    const weights = stringOption(values, 'weights');
    const data = stringOption(values, 'data');
    const imgSize = intOption(values, 'img', 640, 32, 2048);
    const batch = intOption(values, 'batch', 16, 1, 1024);
    const split = values.split ?? 'val';
    if (split !== 'val' && split !== 'train' && split !== 'test') {
      throw new UsageError(`--split takes val, train or test, got '${String(split)}'.`);
    }
    const conf = floatOption(values, 'conf', 0.001, 0, 1);
    const iou = floatOption(values, 'iou', 0.6, 0, 1);
    const prefer = backendOption(values);
    const workers = values.workers === undefined ? undefined : intOption(values, 'workers', 1, 1, MAX_WORKERS);
    const saveTxt = values['save-txt'] === true || values['save-conf'] === true;
    if (!saveTxt && (values.out !== undefined || values.force !== undefined)) {
      throw new UsageError('--out and --force apply to saved predictions: add --save-txt.');
    }
    const out = !saveTxt
      ? undefined
      : typeof values.out === 'string'
        ? path.resolve(values.out)
        : await nextFreeDir(path.resolve('runs', 'val', 'exp'));
    const service = serviceFor('cli', values, { runJobs: false });
    const answer = await service.call('model.val', {
      weights,
      data,
      imgSize,
      batch,
      split,
      conf,
      iou,
      ...(prefer ? { backend: prefer } : {}),
      ...(workers !== undefined ? { workers } : {}),
      ...(saveTxt ? { saveTxt, saveConf: values['save-conf'] === true, out, force: values.force === true } : {}),
    });
    await service.close();
    if (!answer.ok) {
      const { code, message, hint } = answer.error;
      io.err(failureLine('val', new FreezeLabError(code, message, hint)));
      return 1;
    }
    const r = answer.value;
    if (r.warning) io.err(`freezelab val: ${r.warning}\n`);
    io.err(`val: batch ${r.batches}/${r.batches}, ${r.images}/${r.images} images, ${r.seconds.toFixed(1)} s\n`);
    if (values.json) {
      const { weights: label, data: yamlFile, backend, workers: _w, batches: _b, warning: _warn, ...result } = r;
      io.out(`${JSON.stringify({ weights: label, data: yamlFile, backend, ...result })}\n`);
      return 0;
    }
    io.out(formatValTable(r));
    io.out(
      `Speed: ${r.inferenceMs.toFixed(1)} ms inference, ${r.nmsMs.toFixed(1)} ms NMS per image at ` +
        `batch ${r.batchSize}, img ${r.imgSize} on ${r.backend}` +
        `${r.workers > 1 ? ` (${r.workers} workers; NMS counted with inference)` : ''}; ${r.images} images in ` +
        `${r.seconds.toFixed(1)} s (${r.imagesPerSecond.toFixed(2)} images/s), peak tensor memory ` +
        `${(r.peakTensorBytes / 2 ** 20).toFixed(0)} MiB\n`,
    );
    if (r.saved) io.out(formatSaved(r.saved));
    return 0;
  },
};
