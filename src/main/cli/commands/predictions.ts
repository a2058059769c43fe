import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { followJob } from '../follow.js';
import { describeDisagreements, predictionsCsv, type PredictionsResult } from '../../../shared/commands/predictions.js';
import { type ErrorCode, FreezeLabError } from '../../../shared/result.js';
import { MAX_WORKERS } from '../../../shared/train-config.js';
import { type CliCommand, failureLine, floatOption, intOption, UsageError } from '../cli.js';
import { serviceFor } from '../service-factory.js';

/** The disagreements-first list: totals, then one line per image with a disagreement. */
export function formatPredictions(r: PredictionsResult, all = false): string {
  const t = r.totals;
  const lines = [
    `${r.weights} on ${r.data} (${r.split}, img ${r.imgSize}, conf ${r.conf}, NMS IoU ${r.iou}): ` +
      `${r.images.length} images, TP ${t.tp}, FP ${t.fp}, FN ${t.fn} at IoU 0.5`,
    `${t.imagesWithDisagreements} images with disagreements: ${t.missed} missed labels, ` +
      `${t.unlabelled} unlabelled predictions (conf >= ${r.confident}), ${t.confusions} class confusions`,
    `Order: ${r.scoreRule}`,
    '',
    `${'score'.padStart(6)} ${'TP'.padStart(4)} ${'FP'.padStart(4)} ${'FN'.padStart(4)}  file: disagreements`,
  ];
  let rest = 0;
  for (const im of r.images) {
    if (!all && im.disagreements.length === 0) {
      rest++;
      continue;
    }
    lines.push(
      `${im.score.toFixed(2).padStart(6)} ${String(im.tp).padStart(4)} ${String(im.fp).padStart(4)} ${String(im.fn).padStart(4)}  ` +
        `${im.path}${im.disagreements.length ? `: ${describeDisagreements(im.disagreements, r.names)}` : ''}`,
    );
  }
  if (rest > 0) lines.push(`(${rest} images without disagreements not listed; --all lists them)`);
  return `${lines.join('\n')}\n`;
}

/** Writes the CSV; never replaces a file unless `force`. */
async function writeCsv(file: string, text: string, force: boolean): Promise<void> {
  await writeFile(file, text, { flag: force ? 'w' : 'wx' }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'EEXIST') {
      throw new FreezeLabError(
        'conflict',
        `${file} already exists: it is not replaced.`,
        'Choose another name, or pass --force.',
      );
    }
    throw new FreezeLabError(
      'bad-file',
      `Cannot write ${file}: ${error.code ?? error.message}.`,
      'Choose a folder you can write to.',
    );
  });
}

export const predictionsCommand: CliCommand = {
  name: 'predictions',
  summary: "A model's predictions against the labels of a split: TP/FP/FN per image, disagreements first, as CSV.",
  help: [
    'Usage: freezelab predictions RUN_ID [options]',
    '       freezelab predictions --weights W --data D [options]',
    '',
    '  RUN_ID          a run: its best checkpoint, dataset and image size',
    '  --weights W     a .pt / .safetensors checkpoint; --data D: its dataset YAML',
    '  --split NAME    val (default), train or test',
    "  --img N         input long side (default: the run's, else 640)",
    '  --conf X        display confidence: predictions below it are not counted (0.25)',
    '  --iou X         NMS IoU (0.6, as val)',
    '  --confident X   an unlabelled prediction is listed from this confidence on (0.5)',
    '  --csv FILE      also write the list as CSV (file, image, tp, fp, fn, missed, unlabelled,',
    '                  confusions, score, details); an existing FILE is kept unless --force',
    '  --all           list every image, not only those with disagreements',
    '  --workers N     threads the model runs on (WASM/CPU)',
    '',
    "Matching is val's at IoU 0.5 (same predictions, same matcher). Disagreements: missed labels,",
    'confident predictions with no label (candidate missing annotations), and predictions of another',
    'class over an unmatched label (candidate wrong labels). Ctrl+C cancels.',
  ].join('\n'),
  options: {
    weights: { type: 'string' },
    data: { type: 'string' },
    split: { type: 'string' },
    img: { type: 'string' },
    conf: { type: 'string' },
    iou: { type: 'string' },
    confident: { type: 'string' },
    csv: { type: 'string' },
    force: { type: 'boolean' },
    all: { type: 'boolean' },
    workers: { type: 'string' },
    backend: { type: 'string' },
  },
  allowPositionals: true,
  async run(values, positionals, io) {
    if (positionals.length > 1) throw new UsageError(`Give one run id, got ${positionals.length} arguments.`);
    const idText = positionals[0];
    let runId: number | undefined;
    if (idText !== undefined) {
      runId = Number(idText);
      if (!Number.isInteger(runId) || runId < 1) throw new UsageError(`A run id is a whole number, got '${idText}'.`);
      if (values.weights !== undefined) throw new UsageError('Give a run id or --weights, not both.');
    } else if (typeof values.weights !== 'string' || typeof values.data !== 'string') {
      throw new UsageError('Give a run id, or --weights and --data.');
    }
    const split = values.split ?? 'val';
    if (split !== 'val' && split !== 'train' && split !== 'test') {
      throw new UsageError(`--split takes val, train or test, got '${String(split)}'.`);
    }
    const csv = typeof values.csv === 'string' ? path.resolve(values.csv) : undefined;
    if (csv && values.force !== true && existsSync(csv)) {
      io.err(
        failureLine(
          'predictions',
          new FreezeLabError(
            'conflict',
            `${csv} already exists: it is not replaced.`,
            'Choose another name, or pass --force.',
          ),
        ),
      );
      return 1;
    }
    const input = {
      ...(runId !== undefined ? { runId } : {}),
      ...(typeof values.weights === 'string' ? { weights: values.weights } : {}),
      ...(typeof values.data === 'string' ? { data: values.data } : {}),
      split,
      ...(values.img !== undefined ? { imgSize: intOption(values, 'img', 640, 32, 2048) } : {}),
      conf: floatOption(values, 'conf', 0.25, 0.001, 1),
      iou: floatOption(values, 'iou', 0.6, 0, 1),
      confident: floatOption(values, 'confident', 0.5, 0, 1),
      ...(values.workers !== undefined ? { workers: intOption(values, 'workers', 1, 1, MAX_WORKERS) } : {}),
    };
    const service = serviceFor('cli', values, { runJobs: false });
    try {
      const started = await service.call('predictions.start', input);
      if (!started.ok) {
        const { code, message, hint } = started.error;
        io.err(failureLine('predictions', new FreezeLabError(code, message, hint)));
        return 1;
      }
      const { jobId } = started.value;
      const final = await followJob(service, jobId, io, { quiet: values.json === true, detail: () => 'images' });
      if (final.status !== 'completed' || final.result === undefined) {
        const e = final.error ?? {
          code: final.status === 'cancelled' ? 'cancelled' : 'internal',
          message: `the job ${final.status}`,
        };
        io.err(failureLine('predictions', new FreezeLabError(e.code as ErrorCode, e.message, e.hint)));
        return final.status === 'cancelled' ? 130 : 1;
      }
      const r = final.result as PredictionsResult;
      if (r.warning) io.err(`freezelab predictions: ${r.warning}\n`);
      if (csv) {
        try {
          await writeCsv(csv, predictionsCsv(r), values.force === true);
        } catch (error) {
          io.err(failureLine('predictions', error));
          return 1;
        }
        io.err(`CSV written to ${csv}\n`);
      }
      io.out(values.json ? `${JSON.stringify(r)}\n` : formatPredictions(r, values.all === true));
      return 0;
    } finally {
      await service.close();
    }
  },
};
