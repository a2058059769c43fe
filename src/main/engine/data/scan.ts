/**
 * Reads one image's size (and optionally decodes it) and its label file. Used by the dataset
 * check and by the training loader, so both agree on which images and rows are usable.
 */
import { open } from 'node:fs/promises';
import sharp from 'sharp';
import type { ProblemKind, Severity } from '../../../shared/report.js';
import { imageToLabelPath } from './config.js';
import { type LabelRow, MAX_LABEL_BYTES, parseLabels } from './labels.js';

/** How thoroughly images are checked. */
export type DecodeMode =
  /** Decode every image fully: finds any corrupt image (slower). */
  | 'full'
  /** Header only, plus the JPEG end-marker test YOLOv5 uses; truncated JPEGs are then decoded to confirm. */
  | 'header';

/** A problem of one image or its label file; `file` is absolute. */
export interface ScanProblem {
  readonly kind: ProblemKind;
  readonly severity: Severity;
  readonly file: string;
  readonly line?: number;
  readonly reason: string;
}

/** What is known about one image after scanning. */
export interface ImageScan {
  readonly imageFile: string;
  readonly labelFile: string;
  /** False when the image is unreadable, corrupt or too small: it is skipped. */
  readonly ok: boolean;
  /** Size after EXIF orientation (0 when unreadable). */
  readonly width: number;
  readonly height: number;
  /** Kept label rows (empty for a background image). */
  readonly rows: readonly LabelRow[];
  readonly labelFileExists: boolean;
  readonly droppedRows: number;
  readonly problems: readonly ScanProblem[];
}

/** Scans one image and its label file; never throws for bad data. */
export async function scanImage(imageFile: string, nc: number, decode: DecodeMode): Promise<ImageScan> {
  const labelFile = imageToLabelPath(imageFile);
  const problems: ScanProblem[] = [];
  let width = 0;
  let height = 0;
  let ok = true;
  try {
    const meta = await sharp(imageFile).metadata();
    width = meta.width ?? 0;
    height = meta.height ?? 0;
    // EXIF orientations 5-8 rotate by 90 degrees: the displayed image has width and height swapped.
    if ((meta.orientation ?? 1) >= 5) [width, height] = [height, width];
    let needDecode = decode === 'full';
    if (!needDecode && meta.format === 'jpeg') needDecode = !(await endsWithJpegEoi(imageFile));
    if (needDecode) await sharp(imageFile, { failOn: 'truncated' }).raw().toBuffer();
    // YOLOv5 verify_image_label rejects images under 10 pixels a side.
    if (width < 10 || height < 10) {
      ok = false;
      problems.push({
        kind: 'corrupt-image',
        severity: 'error',
        file: imageFile,
        reason: `image is ${width}x${height}, under 10 pixels a side; image skipped`,
      });
    }
  } catch (e) {
    ok = false;
    const why = (e as Error).message.split('\n')[0]!.trim();
    problems.push({
      kind: 'corrupt-image',
      severity: 'error',
      file: imageFile,
      reason: `cannot read image (${why}); image skipped`,
    });
  }
  let text: string | undefined;
  const label = await readLabelFile(labelFile);
  if (typeof label === 'string') {
    text = label;
  } else if (label !== undefined) {
    ok = false;
    problems.push({
      kind: 'field-count',
      severity: 'error',
      file: labelFile,
      reason: `label file is over ${label.over} bytes, the limit (MAX_LABEL_BYTES); image and labels skipped`,
    });
  }
  const parsed = text === undefined ? { rows: [], problems: [], dropped: 0 } : parseLabels(text, nc);
  for (const p of parsed.problems) problems.push({ ...p, file: labelFile });
  if (ok && parsed.rows.length === 0 && parsed.problems.length === 0) {
    const reason =
      text === undefined ? 'no label file; used as a background image' : 'empty label file; used as a background image';
    problems.push({ kind: 'background', severity: 'info', file: imageFile, reason });
  }
  return {
    imageFile,
    labelFile,
    ok,
    width,
    height,
    rows: ok ? parsed.rows : [],
    labelFileExists: text !== undefined,
    droppedRows: parsed.dropped,
    problems,
  };
}

/** YOLOv5's corrupt-JPEG test: a complete JPEG ends with the EOI marker FF D9. */
/**
 * A label file's text, `undefined` when it cannot be read (no labels), or `{over}` when it is
 * larger than MAX_LABEL_BYTES. Reads at most the limit plus one byte, so a file that is huge (or
 * grows, or is a device) costs no more memory than a big label file.
 */
async function readLabelFile(file: string): Promise<string | { over: number } | undefined> {
  let fh;
  try {
    fh = await open(file, 'r');
  } catch {
    return undefined;
  }
  try {
    // chunks until end of file, not the stat size: a device or a growing file has no true size
    const chunks: Buffer[] = [];
    let n = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(64 * 1024);
      const { bytesRead } = await fh.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      n += bytesRead;
      if (n > MAX_LABEL_BYTES) return { over: MAX_LABEL_BYTES };
    }
    return Buffer.concat(chunks, n).toString('utf8');
  } catch {
    return undefined; // a folder named like a label file, or a read error: no labels, as before
  } finally {
    await fh.close();
  }
}

async function endsWithJpegEoi(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const { size } = await fh.stat();
    if (size < 2) return false;
    const buf = Buffer.alloc(2);
    await fh.read(buf, 0, 2, size - 2);
    return buf[0] === 0xff && buf[1] === 0xd9;
  } finally {
    await fh.close();
  }
}

/** Runs `fn` over `items` with at most `limit` in flight, keeping order. */
export async function mapPool<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
