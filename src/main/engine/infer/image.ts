/**
 * Image decoding for inference and training: 8-bit RGB, EXIF orientation applied, alpha dropped.
 * (YOLOv5 reads with cv2.imread, which also applies EXIF orientation; its JPEG decoder may differ
 * from sharp's by a few levels in the chroma channels.)
 */
import sharp from 'sharp';
import type { RgbImage } from './resize.js';

/** Decodes an image file to RGB HWC; throws with the file name when it cannot be read. */
export async function loadImageRgb(file: string): Promise<RgbImage> {
  try {
    const { data, info } = await sharp(file, { failOn: 'truncated' })
      .rotate()
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    return {
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      width: info.width,
      height: info.height,
      channels: info.channels,
    };
  } catch (e) {
    throw new Error(`Cannot read image ${file}: ${(e as Error).message.split('\n')[0]}`, { cause: e });
  }
}
