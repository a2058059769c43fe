import type { ModelDetectResult } from '../../../shared/contract.js';
import { FreezeLabError } from '../../../shared/result.js';
import { type CliCommand, failureLine, floatOption, intOption, stringOption } from '../cli.js';
import { BACKEND_WORDS, backendOption, serviceFor } from '../service-factory.js';

/** `person 0.88 [55, 398, 211, 889]` per detection. */
export function formatDetections(r: Pick<ModelDetectResult, 'detections'>): string {
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
    '  --img N         input long side in pixels: a multiple of 32, at most 2048',
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
    const imgSize = intOption(values, 'img', 640, 32, 2048);
    const conf = floatOption(values, 'conf', 0.25, 0, 1);
    const iou = floatOption(values, 'iou', 0.45, 0, 1);
    const maxDet = intOption(values, 'max-det', 1000, 1, 100_000);
    const prefer = backendOption(values);
    const service = serviceFor('cli', values, { runJobs: false });
    const answer = await service.call('model.detect', {
      weights,
      source,
      imgSize,
      conf,
      iou,
      maxDet,
      ...(prefer ? { backend: prefer } : {}),
    });
    await service.close();
    if (!answer.ok) {
      const { code, message, hint } = answer.error;
      io.err(failureLine('detect', new FreezeLabError(code, message, hint)));
      return 1;
    }
    const { warning, ...result } = answer.value;
    if (warning) io.err(`freezelab detect: ${warning}\n`);
    if (values.json) {
      io.out(`${JSON.stringify(result, null, 2)}\n`);
      return 0;
    }
    const [h, w] = result.inputShape;
    io.err(
      `${source}: ${w}x${h} input, ${result.detections.length} detections, ${result.ms.toFixed(0)} ms on ${result.backend}\n`,
    );
    io.out(formatDetections(result));
    return 0;
  },
};
