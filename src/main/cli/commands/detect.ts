import { stat } from 'node:fs/promises';
import path from 'node:path';
import { followJob } from '../follow.js';
import type { PrelabelSummary } from '../../../shared/commands/prelabel.js';
import type { ModelDetectResult } from '../../../shared/contract.js';
import { type ErrorCode, FreezeLabError } from '../../../shared/result.js';
import { nextFreeDir } from '../../engine/infer/prelabel.js';
import { hasMagic } from '../../engine/infer/source.js';
import type { Service } from '../../service/service.js';
import { type CliCommand, type CliIO, failureLine, floatOption, intOption, stringOption, UsageError } from '../cli.js';
import { BACKEND_WORDS, backendOption, serviceFor } from '../service-factory.js';

/** `person 0.88 [55, 398, 211, 889]` per detection. */
export function formatDetections(r: Pick<ModelDetectResult, 'detections'>): string {
  return r.detections.map((d) => `${d.name} ${d.conf.toFixed(2)} [${d.xyxy.join(', ')}]\n`).join('');
}

export const detectCommand: CliCommand = {
  name: 'detect',
  summary: 'Run a model on an image and list what it detects, or pre-label a folder (as YOLOv5 detect.py).',
  help: [
    'Usage: freezelab detect --weights W --source IMAGE|DIR|GLOB|LIST.txt [--img 640] [--conf 0.25] [--iou 0.45]',
    '                        [--max-det 1000] [--save-txt] [--save-conf] [--save-img] [--out DIR] [--force]',
    '                        [--workers N] [--backend NAME] [--json]',
    '',
    '  --weights W     a .pt / .safetensors checkpoint (or n, s, m, l, x: untrained, for testing)',
    '  --source S      an image file; a folder (its images, not sub-folders); a quoted pattern such',
    '                  as "shots/**/*.jpg"; or a .txt file listing images/folders, one a line,',
    "                  relative to the list's folder",
    '  --img N         input long side in pixels: a multiple of 32, at most 2048',
    '  --conf X        confidence threshold; --iou X: NMS IoU threshold',
    '  --save-txt      write YOLO labels OUT/labels/NAME.txt: cls cx cy w h, normalised',
    '  --save-conf     add the confidence to each label line (implies --save-txt)',
    '  --save-img      write annotated images OUT/NAME',
    '  --out DIR       output folder (default: the next free runs/detect/exp, exp2, ... here)',
    '  --force         replace existing label files and images (never replaced otherwise)',
    '  --workers N     threads the model runs on (WASM/CPU)',
    `  --backend NAME  ${BACKEND_WORDS} (default: the best that loads)`,
    '',
    'One image without --save-*: prints one line per detection: class confidence [x1, y1, x2, y2]',
    'in image pixels. A folder, pattern or list (or any --save-*) pre-labels every image as a job',
    '(Ctrl+C cancels; what was written stays): labels and annotated images unless only one of',
    '--save-txt / --save-img is given. An image without detections gets an empty label file',
    '("seen, background"), so running again on the same folder carries on where it stopped.',
  ].join('\n'),
  options: {
    weights: { type: 'string' },
    source: { type: 'string' },
    img: { type: 'string' },
    conf: { type: 'string' },
    iou: { type: 'string' },
    'max-det': { type: 'string' },
    'save-txt': { type: 'boolean' },
    'save-conf': { type: 'boolean' },
    'save-img': { type: 'boolean' },
    out: { type: 'string' },
    force: { type: 'boolean' },
    workers: { type: 'string' },
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
    const saving = ['save-txt', 'save-conf', 'save-img', 'out', 'force'].some((k) => values[k] !== undefined);
    if (saving || !(await isOneImage(source))) {
      const saveTxt = values['save-txt'] === true || values['save-conf'] === true;
      const saveImg = values['save-img'] === true;
      const both = !saveTxt && !saveImg;
      const out =
        typeof values.out === 'string'
          ? path.resolve(values.out)
          : await nextFreeDir(path.resolve('runs', 'detect', 'exp'));
      const workers = values.workers === undefined ? undefined : intOption(values, 'workers', 1, 1, 64);
      const service = serviceFor('cli', values, { runJobs: false });
      try {
        return await prelabel(service, io, values.json === true, {
          weights,
          source,
          out,
          imgSize,
          conf,
          iou,
          maxDet,
          saveTxt: saveTxt || both,
          saveConf: values['save-conf'] === true,
          saveImg: saveImg || both,
          force: values.force === true,
          ...(workers ? { workers } : {}),
        });
      } finally {
        await service.close();
      }
    }
    if (values.workers !== undefined) throw new UsageError('--workers applies to a folder, pattern or list.');
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

/** Whether `source` names one image file (not a list, folder or pattern). */
async function isOneImage(source: string): Promise<boolean> {
  if (hasMagic(source) || path.extname(source).toLowerCase() === '.txt') return false;
  const st = await stat(source).catch(() => undefined);
  return st?.isFile() ?? true; // a missing file: model.detect says so
}

/** Starts `model.prelabel`, prints its progress on stderr and the summary; Ctrl+C cancels. */
async function prelabel(service: Service, io: CliIO, json: boolean, input: Record<string, unknown>): Promise<number> {
  const started = await service.call('model.prelabel', input);
  if (!started.ok) {
    const { code, message, hint } = started.error;
    io.err(failureLine('detect', new FreezeLabError(code, message, hint)));
    return 1;
  }
  const { jobId } = started.value;
  if (!json) io.err(`${started.value.title} -> ${String(input.out)}\n`);
  const final = await followJob(service, jobId, io, {
    quiet: json,
    onCancel: 'Cancelling after the images in flight (what was written stays)...',
  });
  if (final.status === 'failed') {
    const e = final.error ?? { code: 'internal', message: 'the job failed' };
    io.err(failureLine('detect', new FreezeLabError(e.code as ErrorCode, e.message, e.hint)));
    return 1;
  }
  const summary = final.result as PrelabelSummary | undefined;
  if (!summary) {
    io.err(`freezelab detect: job ${final.status}\n`);
    return final.status === 'cancelled' ? 130 : 1;
  }
  if (json) {
    io.out(`${JSON.stringify(summary, null, 2)}\n`);
  } else {
    if (summary.warning) io.err(`freezelab detect: ${summary.warning}\n`);
    for (const s of summary.skipped) io.err(`skipped ${s.file}: ${s.reason}\n`);
    if (summary.skippedCount > summary.skipped.length)
      io.err(`... and ${summary.skippedCount - summary.skipped.length} more skipped\n`);
    io.out(formatSummary(summary));
  }
  return summary.cancelled ? 130 : 0;
}

/** The summary of a pre-label job, a few lines. */
export function formatSummary(s: PrelabelSummary): string {
  const lines = [
    `${s.cancelled ? 'Cancelled after' : 'Done:'} ${s.processed} of ${s.images} images in ${s.seconds.toFixed(1)}s on ${s.workers} thread${s.workers === 1 ? '' : 's'}: ${s.detections} detections, ${s.labelled} images labelled, ${s.empty} without detections, ${s.skippedCount} skipped`,
  ];
  if (s.labelFiles > 0 || s.imageFiles === 0) lines.push(`${s.labelFiles} label files written to ${s.labelsDir}`);
  if (s.imageFiles > 0) lines.push(`${s.imageFiles} annotated images written to ${s.out}`);
  if (s.keptExisting > 0) lines.push(`${s.keptExisting} existing files kept (--force replaces them)`);
  return `${lines.join('\n')}\n`;
}
