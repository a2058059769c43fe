/**
 * Pre-labelling a folder (issue 15, "the annotator's loop"), as YOLOv5 detect.py with --save-txt:
 * a model runs over every image of a source (a folder, a glob, a .txt list) and writes one YOLO
 * label file per image (OUT/labels/NAME.txt) and the annotated image (OUT/NAME). A background job.
 *
 * Existing files are never overwritten unless `force`: an image whose outputs all exist is
 * skipped (no inference), with a note. Unlike detect.py, an image without detections gets an
 * empty label file: YOLOv5 reads an empty file as "background, no objects" (as it reads a missing
 * one), and the file marks the image as done, so a cancelled or interrupted job, started again
 * on the same folder, carries on where it stopped. Lower the threshold and run with `force` to
 * look at such images again.
 */
import { z } from 'zod';
import { command } from '../command.js';
import { imgSizeSchema, MAX_WORKERS, modelSpecSchema, pathSchema } from '../train-config.js';
import type { JobProgress } from './jobs.js';

/** An image the job did not label, and why (exists, unreadable). */
export interface PrelabelSkip {
  readonly file: string;
  readonly reason: string;
}

/** A pre-label job's result (the `result` of its `JobProgress`). */
export interface PrelabelSummary {
  /** The source as given and what it was taken as. */
  readonly source: string;
  readonly sourceKind: 'image' | 'folder' | 'glob' | 'list';
  /** The model as named by its source. */
  readonly weights: string;
  /** Output folder (annotated images) and its labels/ folder. */
  readonly out: string;
  readonly labelsDir: string;
  /** Images of the source, and those the model ran on. */
  readonly images: number;
  readonly processed: number;
  /** Images with at least one detection; with none (an empty label file). */
  readonly labelled: number;
  readonly empty: number;
  readonly detections: number;
  /** Images skipped (counted), the first 200 of them with their reason. */
  readonly skippedCount: number;
  readonly skipped: readonly PrelabelSkip[];
  /** Files written. */
  readonly labelFiles: number;
  readonly imageFiles: number;
  /** Existing files left as they were (one count for labels and images). */
  readonly keptExisting: number;
  /** The first annotated images written (for a preview). */
  readonly annotated: readonly string[];
  readonly seconds: number;
  /** True when the job was cancelled: what was written stays. */
  readonly cancelled: boolean;
  /** Threads the model ran on. */
  readonly workers: number;
  /** Set when the detections mean little, e.g. a bare architecture without trained weights. */
  readonly warning?: string;
}

export const prelabelInputSchema = z
  .object({
    weights: modelSpecSchema,
    /** A folder (its images, not recursive), a glob ("photos/**\/*.jpg"), a .txt list, or one image. */
    source: pathSchema,
    /** Output folder; absent: the next free <data folder>/detect/exp, exp2, ... */
    out: pathSchema.optional(),
    imgSize: imgSizeSchema.default(640),
    conf: z.number().min(0).max(1).default(0.25),
    iou: z.number().min(0).max(1).default(0.45),
    maxDet: z.number().int().min(1).max(100_000).default(1000),
    classes: z.array(z.number().int().min(0).max(999)).max(1000).optional(),
    agnostic: z.boolean().default(false),
    saveTxt: z.boolean().default(true),
    saveConf: z.boolean().default(false),
    saveImg: z.boolean().default(true),
    force: z.boolean().default(false),
    workers: z.number().int().min(1).max(MAX_WORKERS).optional(),
  })
  .strict()
  .refine((v) => v.saveTxt || v.saveImg, { message: 'save labels (saveTxt), annotated images (saveImg) or both' });

export type PrelabelInput = z.input<typeof prelabelInputSchema>;

export const prelabelCommands = {
  /** Start pre-labelling a source; answers the started job (follow it with job.progress, jobs.get). */
  'model.prelabel': command<JobProgress>()(prelabelInputSchema),
} as const;
