/**
 * Images rendered for the page: scaled JPEG previews, EXIF orientation applied as the loader does.
 *
 * Thumbnails (maxSize <= THUMB_MAX_SIZE) are cached on disk, in `<dataDir>/thumbs/`: one file per
 * (image path, its mtime, its size in bytes, maxSize), named `<sha1>.thumb`, holding a 12-byte
 * header ("FLT1", original width and height as uint32 LE) and the JPEG. An edited image gets a new
 * key; stale files are pruned oldest-first when the folder grows past THUMB_CACHE_BYTES.
 * Only files sharp decodes as images are ever read or returned: any other file is an ImageReadError.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { ImageReadError } from './image.js';

export interface Preview {
  readonly jpeg: Buffer;
  /** The original (oriented) image's size. */
  readonly width: number;
  readonly height: number;
  /** Answered from the on-disk thumbnail cache. */
  readonly cached?: boolean;
}

/** Largest maxSize cached on disk. */
export const THUMB_MAX_SIZE = 256;
/** The thumbnail folder's size cap (about 50,000 thumbnails of 256 px). */
export const THUMB_CACHE_BYTES = 512 * 1024 * 1024;
const MAGIC = 'FLT1';
const HEADER = 12;

/** `file` scaled to at most `maxSize` pixels on its long side, as a JPEG. */
export async function renderPreview(file: string, maxSize: number): Promise<Preview> {
  try {
    const image = sharp(file, { failOn: 'truncated' }).rotate();
    const { data, info } = await image
      .clone()
      .resize({ width: maxSize, height: maxSize, fit: 'inside', withoutEnlargement: true })
      .flatten({ background: '#ffffff' })
      .jpeg({ quality: 80 })
      .toBuffer({ resolveWithObject: true });
    const meta = await image.metadata();
    // metadata() reports the stored size; orientations 5-8 swap width and height.
    const swap = (meta.orientation ?? 1) >= 5;
    const width = (swap ? meta.height : meta.width) ?? info.width;
    const height = (swap ? meta.width : meta.height) ?? info.height;
    return { jpeg: data, width, height };
  } catch (e) {
    throw new ImageReadError(file, (e as Error).message.split('\n')[0] ?? String(e), { cause: e });
  }
}

/** Writes between prunes of the cache folder (a prune lists the folder). */
const PRUNE_EVERY = 500;
let writesSincePrune = PRUNE_EVERY; // prune on the first write of a process

/** The cache file of a thumbnail, or undefined when `maxSize` is too large to cache or the image is missing. */
export async function thumbPath(cacheDir: string, file: string, maxSize: number): Promise<string | undefined> {
  if (maxSize > THUMB_MAX_SIZE) return undefined;
  const abs = path.resolve(file);
  let st;
  try {
    st = await stat(abs);
  } catch {
    return undefined; // renderPreview reports the missing file
  }
  const key = createHash('sha1').update(`${abs}\0${st.mtimeMs}\0${st.size}\0${maxSize}`).digest('hex');
  return path.join(cacheDir, `${key}.thumb`);
}

/** renderPreview through the thumbnail cache in `cacheDir` (used for maxSize <= THUMB_MAX_SIZE). */
export async function cachedPreview(
  cacheDir: string,
  file: string,
  maxSize: number,
  capBytes = THUMB_CACHE_BYTES,
): Promise<Preview> {
  const cacheFile = await thumbPath(cacheDir, file, maxSize);
  if (!cacheFile) return renderPreview(file, maxSize);
  try {
    const buf = await readFile(cacheFile);
    if (buf.length > HEADER && buf.toString('latin1', 0, 4) === MAGIC) {
      return { jpeg: buf.subarray(HEADER), width: buf.readUInt32LE(4), height: buf.readUInt32LE(8), cached: true };
    }
  } catch {
    // not cached yet
  }
  const preview = await renderPreview(file, maxSize);
  try {
    const header = Buffer.alloc(HEADER);
    header.write(MAGIC, 0, 'latin1');
    header.writeUInt32LE(preview.width, 4);
    header.writeUInt32LE(preview.height, 8);
    await mkdir(cacheDir, { recursive: true });
    // written aside and renamed, so a concurrent reader never sees half a file
    const tmp = `${cacheFile}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    await writeFile(tmp, Buffer.concat([header, preview.jpeg]));
    await rename(tmp, cacheFile);
    if (++writesSincePrune >= PRUNE_EVERY) {
      writesSincePrune = 0;
      await pruneThumbs(cacheDir, capBytes);
    }
  } catch {
    // a cache that cannot be written (read-only data folder, disk full) only costs speed
  }
  return preview;
}

/** Deletes the oldest thumbnails until the folder is under 80% of `capBytes`. Returns files deleted. */
export async function pruneThumbs(cacheDir: string, capBytes: number): Promise<number> {
  let names: string[];
  try {
    names = await readdir(cacheDir);
  } catch {
    return 0;
  }
  const files: { file: string; size: number; mtimeMs: number }[] = [];
  let total = 0;
  for (const n of names) {
    if (!n.endsWith('.thumb') && !n.endsWith('.tmp')) continue;
    try {
      const st = await stat(path.join(cacheDir, n));
      files.push({ file: path.join(cacheDir, n), size: st.size, mtimeMs: st.mtimeMs });
      total += st.size;
    } catch {
      // deleted meanwhile
    }
  }
  if (total <= capBytes) return 0;
  files.sort((a, b) => a.mtimeMs - b.mtimeMs);
  let deleted = 0;
  for (const f of files) {
    if (total <= capBytes * 0.8) break;
    try {
      await unlink(f.file);
      total -= f.size;
      deleted++;
    } catch {
      // deleted meanwhile
    }
  }
  return deleted;
}
