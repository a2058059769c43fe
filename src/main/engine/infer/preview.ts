/** Images rendered for the page: scaled JPEG previews, EXIF orientation applied as the loader does. */
import sharp from 'sharp';
import { ImageReadError } from './image.js';

export interface Preview {
  readonly jpeg: Buffer;
  /** The original (oriented) image's size. */
  readonly width: number;
  readonly height: number;
}

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
