/** The dataset browser's commands (spread into `commands` by contract.ts). */
import { z } from 'zod';
import { command } from '../command.js';
import type { ClassCount, DatasetProblem, ProblemKind } from '../report.js';
import { pathSchema } from '../train-config.js';

/** An image file rendered for the page: a JPEG data URL no larger than `maxSize` on its long side. */
export interface ImagePreview {
  /** `data:image/jpeg;base64,...` */
  readonly dataUrl: string;
  /** The original image's size in pixels (boxes in normalised xywh scale to it). */
  readonly width: number;
  readonly height: number;
}

/** Every problem kind of the dataset report (src/shared/report.ts), for the browser's problem filter. */
export const PROBLEM_KINDS = [
  'field-count',
  'non-numeric',
  'class-id',
  'out-of-bounds',
  'zero-area',
  'duplicate',
  'background',
  'orphan-label',
  'corrupt-image',
  'empty-split',
] as const satisfies readonly ProblemKind[];
// Fails to compile when report.ts gains a kind this list lacks.
const _allKinds: readonly (typeof PROBLEM_KINDS)[number][] = [] as ProblemKind[];
void _allKinds;

export const BROWSE_SPLITS = ['train', 'val', 'test'] as const;
export type BrowseSplit = (typeof BROWSE_SPLITS)[number];

/** One kept label row: class, normalised centre xywh, and its 1-based line in the image's label file. */
export interface BrowseBox {
  readonly cls: number;
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
  readonly line: number;
  /** The row was a polygon, shown as its bounding box (as YOLOv5 trains on it). */
  readonly polygon: boolean;
}

/** One image of a split, as the browser shows it. */
export interface BrowseImage {
  /** Absolute image path (pass to `data.image`). */
  readonly path: string;
  /** Path relative to the dataset root (or absolute when outside it). */
  readonly name: string;
  /** The label file, relative to the dataset root like `name`; rows are `labelFile:line`. */
  readonly labelFile: string;
  readonly labelFileExists: boolean;
  /** Size after EXIF orientation; 0 when the image is unreadable (`ok` false). */
  readonly width: number;
  readonly height: number;
  /** False for images training skips (unreadable, corrupt, too small). */
  readonly ok: boolean;
  readonly boxes: readonly BrowseBox[];
  /** This image's and its label file's problems, as in the dataset report. */
  readonly problems: readonly DatasetProblem[];
}

/** A page of a split's images, with the split's histogram and the filters' choices. */
export interface BrowsePage {
  readonly yamlFile: string;
  readonly root: string;
  readonly split: BrowseSplit;
  /** Splits the YAML defines. */
  readonly splits: readonly BrowseSplit[];
  readonly names: readonly string[];
  /** Images in the split (unfiltered). */
  readonly splitImages: number;
  /** Images matching the filters (the grid's length). */
  readonly total: number;
  readonly offset: number;
  readonly images: readonly BrowseImage[];
  /** Instances and images per class over the whole split (usable images only, as training). */
  readonly classCounts: readonly ClassCount[];
  /** Background (label-free) usable images of the split. */
  readonly backgrounds: number;
  /** Problem kinds present in the split, with the number of images having each. */
  readonly problemKinds: readonly { readonly kind: ProblemKind; readonly images: number }[];
  /** Milliseconds the split's scan took (0 when answered from the in-memory cache). */
  readonly scanMs: number;
}

export const datasetCommands = {
  /**
   * One image, scaled to at most `maxSize` pixels on its long side (EXIF orientation applied, as the
   * loader does). Thumbnails (maxSize <= 256) are cached on disk under the data folder.
   */
  'data.image': command<ImagePreview>()(
    z.object({ path: pathSchema, maxSize: z.number().int().min(32).max(2048).default(256) }).strict(),
  ),
  /**
   * A page of a split's images with their label rows (file:line) and problems, filtered by class,
   * problem kind or background. The scanned split is kept in memory per (YAML, its mtime), so
   * paging and filtering are instant after the first scan; `refresh` rescans (labels edited).
   */
  'data.browse': command<BrowsePage>()(
    z
      .object({
        data: pathSchema,
        split: z.enum(BROWSE_SPLITS).default('train'),
        class: z.number().int().min(0).optional(),
        problem: z.enum(PROBLEM_KINDS).optional(),
        background: z.boolean().default(false),
        offset: z.number().int().min(0).default(0),
        limit: z.number().int().min(0).max(1000).default(200),
        refresh: z.boolean().default(false),
      })
      .strict(),
  ),
} as const;
