/**
 * Validation predictions as YOLO label files, as YOLOv5 v7.0 val.py --save-txt [--save-conf]
 * (its save_one_txt): for each image with at least one prediction, OUT/labels/STEM.txt with one
 * line per prediction after val's NMS, `cls cx cy w h [conf]`, the box (scaled back to the
 * original image, unrounded float32) normalised by the original width and height, '%g' numbers
 * (the line writer pre-labelling uses). An image without predictions gets no file, as val.py.
 *
 * Unlike val.py (which appends to whatever is there), an existing label file is never touched
 * unless `force`: {@link prepareValLabels} refuses before anything is evaluated. With `force`,
 * every image's file is this run's: replaced, or removed when the image has no prediction now.
 * Two images of the split with the same stem (or one listed twice) would share a file (val.py
 * appends one to the other): refused.
 */
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FreezeLabError } from '../../../shared/result.js';
import type { ImageScan } from '../data/scan.js';
import { labelLine } from '../infer/label-format.js';
import { labelFileFor } from '../infer/prelabel.js';
import type { ValImagePredictions } from './validate.js';

/** Options of {@link prepareValLabels}. */
export interface ValLabelsOptions {
  /** Output folder: files go to OUT/labels/. */
  readonly out: string;
  /** End each line with the prediction's confidence. */
  readonly saveConf: boolean;
  /** Replace (or remove) existing label files of the split's images. */
  readonly force: boolean;
}

/** What a {@link ValLabelWriter} wrote. */
export interface ValLabelCounts {
  readonly dir: string;
  readonly labelsDir: string;
  readonly labelFiles: number;
  readonly imagesWithoutPredictions: number;
  readonly predictions: number;
  readonly saveConf: boolean;
}

/** Writes each image's predictions; pass {@link write} as validate()'s `onImage`. */
export interface ValLabelWriter {
  readonly write: (p: ValImagePredictions) => Promise<void>;
  readonly counts: () => ValLabelCounts;
}

const LISTED = 5;

async function exists(file: string): Promise<boolean> {
  return (await stat(file).catch(() => undefined)) !== undefined;
}

/**
 * Checks the label files the usable images of a split would get (refusing existing ones without
 * `force`, and shared stems) and answers the writer (which creates OUT/labels with the first image).
 */
export async function prepareValLabels(images: readonly ImageScan[], opts: ValLabelsOptions): Promise<ValLabelWriter> {
  const dir = path.resolve(opts.out);
  const labelsDir = path.join(dir, 'labels');
  const usable = images.filter((im) => im.ok);
  const fileOf = new Map<string, string>();
  const byLabel = new Map<string, string>();
  for (const im of usable) {
    const file = labelFileFor(dir, im.imageFile);
    const other = byLabel.get(file);
    if (other !== undefined) {
      throw new FreezeLabError(
        'conflict',
        other === im.imageFile
          ? `${other} is listed twice in the split: its predictions would be saved twice as ${file}.`
          : `${other} and ${im.imageFile} would both be saved as ${file} (the same name without extension).`,
        other === im.imageFile
          ? 'List each image once, or validate without saving labels.'
          : 'Rename one of them, or validate without saving labels.',
      );
    }
    byLabel.set(file, im.imageFile);
    fileOf.set(im.imageFile, file);
  }
  if (!opts.force) {
    const present: string[] = [];
    for (const file of new Set(fileOf.values())) if (await exists(file)) present.push(file);
    if (present.length > 0) {
      const n = present.length;
      throw new FreezeLabError(
        'conflict',
        `${n} of the ${fileOf.size} label files to write already exist${n === 1 ? 's' : ''} in ${labelsDir} ` +
          `(${present
            .slice(0, LISTED)
            .map((f) => path.basename(f))
            .join(', ')}${n > LISTED ? ', ...' : ''}); nothing was evaluated.`,
        'Save to another folder (out), or replace them (force).',
      );
    }
  }
  // Created with the first image (after validate's own checks), so a refused run leaves no folder.
  let made: Promise<unknown> | undefined;
  // 'wx': a file that appeared since the check (another process) is not replaced.
  const flag = opts.force ? 'w' : 'wx';
  let labelFiles = 0;
  let imagesWithoutPredictions = 0;
  let predictions = 0;
  const write = async (p: ValImagePredictions): Promise<void> => {
    const file = fileOf.get(p.file) ?? labelFileFor(dir, p.file);
    const [h, w] = p.shape;
    await (made ??= mkdir(labelsDir, { recursive: true }));
    if (p.count === 0) {
      imagesWithoutPredictions++;
      if (opts.force) await rm(file, { force: true });
      return;
    }
    let text = '';
    for (let i = 0; i < p.count; i++) {
      const b = p.boxes;
      const xyxy = [b[4 * i]!, b[4 * i + 1]!, b[4 * i + 2]!, b[4 * i + 3]!] as const;
      text += `${labelLine(p.cls[i]!, xyxy, w, h, opts.saveConf ? p.conf[i]! : undefined)}\n`;
    }
    try {
      await writeFile(file, text, { flag });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      throw new FreezeLabError(
        'conflict',
        `${file} appeared while validating (another process writing to ${labelsDir}?); it was kept.`,
        'Save to a folder nothing else writes to, or replace its files (force).',
      );
    }
    labelFiles++;
    predictions += p.count;
  };
  return {
    write,
    counts: () => ({ dir, labelsDir, labelFiles, imagesWithoutPredictions, predictions, saveConf: opts.saveConf }),
  };
}
