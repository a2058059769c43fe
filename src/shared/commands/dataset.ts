/** The dataset browser's commands (spread into `commands` by contract.ts). */
import { z } from 'zod';
import { command } from '../command.js';
import { pathSchema } from '../train-config.js';

/** An image file rendered for the page: a JPEG data URL no larger than `maxSize` on its long side. */
export interface ImagePreview {
  /** `data:image/jpeg;base64,...` */
  readonly dataUrl: string;
  /** The original image's size in pixels (boxes in normalised xywh scale to it). */
  readonly width: number;
  readonly height: number;
}

export const datasetCommands = {
  /**
   * One image, scaled to at most `maxSize` pixels on its long side (EXIF orientation applied, as the
   * loader does). Thumbnails (maxSize <= 256) are cached on disk under the data folder.
   */
  'data.image': command<ImagePreview>()(
    z.object({ path: pathSchema, maxSize: z.number().int().min(32).max(2048).default(256) }).strict(),
  ),
} as const;
