/**
 * Limits of the weights readers. A crafted file must fail with a message naming the file and the
 * limit, not exhaust memory or the stack. Each limit sits far above what official YOLOv5
 * checkpoints need (yolov5x6 last.pt with its optimizer: ~2M pickle objects, ~1 GB of storages).
 */
import { WeightsFormatError } from './errors.js';

export const WEIGHTS_LIMITS = {
  /** Entries in the pickle memo (yolov5n.pt uses a few thousand). */
  PICKLE_MAX_MEMO: 5_000_000,
  /** Values the unpickler creates (containers, objects, strings, numbers). */
  PICKLE_MAX_OBJECTS: 20_000_000,
  /** MARK nesting, and nesting of containers when the object tree is walked. */
  PICKLE_MAX_DEPTH: 1000,
  /** Values produced when the tree is converted to plain data (shared objects count each time). */
  PICKLE_MAX_EXPANDED: 1_000_000,
  /** Uncompressed size of one zip member. */
  ZIP_MAX_MEMBER_BYTES: 2 * 1024 ** 3,
  /** Uncompressed size of all zip members together. */
  ZIP_MAX_TOTAL_BYTES: 4 * 1024 ** 3,
  /** Deflate cannot expand more than 1032:1; a larger declared ratio is a lie. */
  ZIP_MAX_DEFLATE_RATIO: 1032,
} as const;

export type WeightsLimitName = keyof typeof WEIGHTS_LIMITS;

/** The file breaks a reader limit: says which, with the value found. */
export function limitError(
  file: string,
  limit: WeightsLimitName,
  found: string,
  value: number = WEIGHTS_LIMITS[limit],
): WeightsFormatError {
  return new WeightsFormatError(
    file,
    `refused: ${found}, over the ${limit} limit (${value}); a real checkpoint never comes close, so the file is damaged or crafted`,
  );
}
