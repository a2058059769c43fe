/**
 * Predictions against labels (issue 15): a model's detections on a dataset split drawn over the
 * labels, per-image TP/FP/FN at IoU 0.5 with val's matching, and the images where model and labels
 * disagree first. Commands of this area are spread into `commands` by contract.ts; the CSV an
 * annotator opens is built here (pure), so the renderer and the CLI write the same file.
 */
import { z } from 'zod';
import { command } from '../command.js';
import { MAX_WORKERS, imgSizeSchema, modelSpecSchema, pathSchema, runIdSchema } from '../train-config.js';
import { jobIdSchema, type JobProgress } from './jobs.js';

/** A box in original image pixels: top-left corner and size. */
export interface PixelBox {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

/** A label row of an image (its 1-based line in the label file). */
export interface LabelBox extends PixelBox {
  readonly cls: number;
  readonly line: number;
}

/** A detection kept for display (conf at or above the display threshold). */
export interface PredictionBox extends PixelBox {
  readonly cls: number;
  readonly conf: number;
}

export const DISAGREEMENT_KINDS = ['missed', 'unlabelled', 'confusion'] as const;
export type DisagreementKind = (typeof DISAGREEMENT_KINDS)[number];

/**
 * One place where model and labels disagree:
 * - `missed`: a label no displayed prediction matched (a false negative not explained by a confusion);
 * - `unlabelled`: a confident prediction overlapping no label of any class at IoU 0.5 (a candidate
 *   missing annotation); `conf` is its confidence;
 * - `confusion`: a prediction of class `predCls` at IoU >= 0.5 with an unmatched label of class `cls`
 *   (a candidate wrong label); `box` is the label's box, `predBox` the prediction's.
 */
export interface Disagreement {
  readonly kind: DisagreementKind;
  /** The label's class (missed, confusion) or the prediction's (unlabelled). */
  readonly cls: number;
  readonly predCls?: number;
  readonly conf?: number;
  /** IoU of the prediction with the label (confusion). */
  readonly iou?: number;
  /** Line of the label in its label file (missed, confusion). */
  readonly line?: number;
  readonly box: PixelBox;
  readonly predBox?: PixelBox;
}

/** One image of the split with its labels, displayed predictions and counts. */
export interface PredictionImage {
  /** Absolute path of the image file. */
  readonly path: string;
  /** File name (what the list shows). */
  readonly name: string;
  readonly labelFile: string;
  /** Size after EXIF orientation, in pixels. */
  readonly width: number;
  readonly height: number;
  readonly labels: readonly LabelBox[];
  readonly predictions: readonly PredictionBox[];
  /** At IoU 0.5 over the displayed predictions: tp + fn = labels, tp + fp = predictions. */
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
  readonly disagreements: readonly Disagreement[];
  /** Disagreement score (see DISAGREEMENT_SCORE_RULE); 0 when there is none. */
  readonly score: number;
}

export interface PredictionTotals {
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
  readonly missed: number;
  readonly unlabelled: number;
  readonly confusions: number;
  /** Images with at least one disagreement. */
  readonly imagesWithDisagreements: number;
}

/** What a predictions job answers when it completes. */
export interface PredictionsResult {
  /** The weights as the user named them (a run's best checkpoint: its path). */
  readonly weights: string;
  /** The run whose checkpoint it was, when started from a run. */
  readonly runId?: number;
  readonly data: string;
  readonly split: 'val' | 'train' | 'test';
  readonly names: readonly string[];
  readonly imgSize: number;
  /** Display confidence, NMS IoU, and the confidence an unlabelled prediction needs to count. */
  readonly conf: number;
  readonly iou: number;
  readonly confident: number;
  readonly backend: string;
  readonly seconds: number;
  readonly totals: PredictionTotals;
  /** Disagreements first (score descending), then the rest by errors (fp + fn) descending. */
  readonly images: readonly PredictionImage[];
  /** The rule that orders `images`, in words. */
  readonly scoreRule: string;
  readonly warning?: string;
}

/** How images are ordered, in words (the CLI and the view show it). */
export const DISAGREEMENT_SCORE_RULE =
  'score = 1 per missed label + the confidence of each unlabelled confident prediction + the confidence of ' +
  'each class confusion; images with the highest score first, then images without disagreements by FP + FN.';

/** Input of `predictions.start`: a run (its best checkpoint, dataset and image size) or weights and a dataset. */
export const predictionsStartSchema = z
  .object({
    runId: runIdSchema.optional(),
    weights: modelSpecSchema.optional(),
    data: pathSchema.optional(),
    split: z.enum(['val', 'train', 'test']).default('val'),
    /** Default: the run's image size, else 640. */
    imgSize: imgSizeSchema.optional(),
    /** Display confidence: predictions below it are not drawn nor counted. */
    conf: z.number().min(0.001).max(1).default(0.25),
    /** NMS IoU (val's 0.6). */
    iou: z.number().min(0).max(1).default(0.6),
    /** An unlabelled prediction is listed as a disagreement from this confidence on. */
    confident: z.number().min(0).max(1).default(0.5),
    batch: z.number().int().min(1).max(1024).default(16),
    workers: z.number().int().min(1).max(MAX_WORKERS).optional(),
  })
  .strict()
  .refine((v) => v.runId !== undefined || (v.weights !== undefined && v.data !== undefined), {
    message: 'give a run id, or weights and a data YAML',
  });

export type PredictionsStartInput = z.input<typeof predictionsStartSchema>;

export const predictionCommands = {
  /** Start predictions against labels as a background job (follow `job.progress`; result: PredictionsResult). */
  'predictions.start': command<JobProgress>()(predictionsStartSchema),
  /** The result of a completed predictions job. */
  'predictions.result': command<PredictionsResult>()(z.object({ id: jobIdSchema }).strict()),
} as const;

// ---- CSV -------------------------------------------------------------------------------------

export const PREDICTIONS_CSV_COLUMNS = [
  'file',
  'image',
  'tp',
  'fp',
  'fn',
  'missed',
  'unlabelled',
  'confusions',
  'score',
  'details',
] as const;

/** One CSV field: quoted when it holds a comma, quote, CR or LF (RFC 4180), quotes doubled. */
export function csvField(v: string | number): string {
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const nameOf = (names: readonly string[], c: number): string => names[c] ?? String(c);

/** One line of words about an image's disagreements, e.g. "missed dog (line 3); unlabelled car 0.87". */
export function describeDisagreements(d: readonly Disagreement[], names: readonly string[]): string {
  return d
    .map((x) => {
      if (x.kind === 'missed') return `missed ${nameOf(names, x.cls)} (line ${x.line ?? '?'})`;
      if (x.kind === 'unlabelled') return `unlabelled ${nameOf(names, x.cls)} ${(x.conf ?? 0).toFixed(2)}`;
      return `labelled ${nameOf(names, x.cls)} (line ${x.line ?? '?'}) predicted ${nameOf(names, x.predCls ?? -1)} ${(x.conf ?? 0).toFixed(2)}`;
    })
    .join('; ');
}

export function countKind(d: readonly Disagreement[], kind: DisagreementKind): number {
  return d.reduce((n, x) => n + (x.kind === kind ? 1 : 0), 0);
}

/** The result as CSV (header + one row per image, in the result's order), CRLF-free, ending in a newline. */
export function predictionsCsv(result: Pick<PredictionsResult, 'images' | 'names'>): string {
  const rows = result.images.map((im) =>
    [
      im.path,
      im.name,
      im.tp,
      im.fp,
      im.fn,
      countKind(im.disagreements, 'missed'),
      countKind(im.disagreements, 'unlabelled'),
      countKind(im.disagreements, 'confusion'),
      Number(im.score.toFixed(4)),
      describeDisagreements(im.disagreements, result.names),
    ]
      .map(csvField)
      .join(','),
  );
  return `${[PREDICTIONS_CSV_COLUMNS.join(','), ...rows].join('\n')}\n`;
}
