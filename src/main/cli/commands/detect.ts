import { stat } from 'node:fs/promises';
import { detectImage, type DetectResult } from '../../engine/infer/detect.js';
import { instantiateModel, resolveModelSource } from '../../engine/model/source.js';
import { initBackend } from '../../engine/tf/backend.js';
import { FreezeLabError } from '../../../shared/result.js';
import { type CliCommand, UsageError, failureLine, floatOption, intOption, stringOption } from '../cli.js';
import { BACKEND_WORDS, backendOption } from '../service-factory.js';

/** `person 0.88 [55, 398, 211, 889]` per detection. */
export function formatDetections(r: DetectResult): string {
  return r.detections.map((d) => `${d.name} ${d.conf.toFixed(2)} [${d.xyxy.join(', ')}]\n`).join('');
}

export const detectCommand: CliCommand = {
  name: 'detect',
  summary: 'Run a model on one image and list what it detects (as YOLOv5 detect.py).',
  help: [
    'Usage: freezelab detect --weights W --source IMAGE [--img 640] [--conf 0.25] [--iou 0.45]',
    '                        [--max-det 1000] [--backend NAME] [--json]',
    '',
    '  --weights W     a .pt / .safetensors checkpoint (or n, s, m, l, x: untrained, for testing)',
    '  --source IMAGE  the image file',
    '  --img N         input long side in pixels (rounded up to a multiple of the stride)',
    '  --conf X        confidence threshold; --iou X: NMS IoU threshold',
    `  --backend NAME  ${BACKEND_WORDS} (default: the best that loads)`,
    '',
    'Prints one line per detection: class confidence [x1, y1, x2, y2] in image pixels.',
  ].join('\n'),
  options: {
    weights: { type: 'string' },
    source: { type: 'string' },
    img: { type: 'string' },
    conf: { type: 'string' },
    iou: { type: 'string' },
    'max-det': { type: 'string' },
    backend: { type: 'string' },
  },
  async run(values, _positionals, io) {
    const weights = stringOption(values, 'weights');
    const source = stringOption(values, 'source');
    const imgSize = intOption(values, 'img', 640, 32, 8192);
    const conf = floatOption(values, 'conf', 0.25, 0, 1);
    const iou = floatOption(values, 'iou', 0.45, 0, 1);
    const maxDet = intOption(values, 'max-det', 1000, 1, 100_000);
    const prefer = backendOption(values);
    try {
      const info = await stat(source).catch(() => undefined);
      if (!info) throw new FreezeLabError('not-found', `${source}: no such file.`, 'Give an existing image file.');
      if (!info.isFile()) throw new FreezeLabError('bad-file', `${source} is a folder; --source takes one image file.`);
      const backend = await initBackend(prefer ? { prefer } : {});
      const src = await resolveModelSource(weights);
      if (!src.weights) io.err(`freezelab detect: ${src.label} has no trained weights; its detections mean nothing.\n`);
      const { model } = instantiateModel(src);
      let result: DetectResult;
      try {
        result = await detectImage(model, src.names, source, { imgSize, conf, iou, maxDet });
      } finally {
        model.dispose();
      }
      if (values.json) {
        io.out(`${JSON.stringify({ source, weights: src.label, backend: backend.name, ...result }, null, 2)}\n`);
        return 0;
      }
      const [h, w] = result.inputShape;
      io.err(
        `${source}: ${w}x${h} input, ${result.detections.length} detections, ${result.ms.toFixed(0)} ms on ${backend.name}\n`,
      );
      io.out(formatDetections(result));
      return 0;
    } catch (error) {
      if (error instanceof UsageError) throw error;
      io.err(failureLine('detect', error));
      return 1;
    }
  },
};
