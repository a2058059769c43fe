/**
 * Annotated images as detect.py saves them: each box drawn in its class colour (YOLOv5's
 * `Colors` palette) with a filled tag `name conf` above it, line width
 * max(round((h + w + 3) / 2 * 0.003), 2). Drawn with sharp as an SVG overlay on the decoded
 * image (EXIF orientation applied, as the boxes are in that image's pixels).
 */
import path from 'node:path';
import sharp from 'sharp';
import type { Detection } from './detect.js';
import type { RgbImage } from './resize.js';

/** YOLOv5 utils/plots.py Colors: class c takes PALETTE[c % 20]. */
export const PALETTE = [
  'FF3838',
  'FF9D97',
  'FF701F',
  'FFB21D',
  'CFD231',
  '48F90A',
  '92CC17',
  '3DDB86',
  '1A9334',
  '00D4BB',
  '2C99A8',
  '00C2FF',
  '344593',
  '6473FF',
  '0018EC',
  '8438FF',
  '520085',
  'CB38FF',
  'FF95C8',
  'FF37C7',
] as const;

export function classColour(cls: number): string {
  return `#${PALETTE[((cls % PALETTE.length) + PALETTE.length) % PALETTE.length]}`;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The SVG overlay of `detections` on a `width` x `height` image. */
export function overlaySvg(detections: readonly Detection[], width: number, height: number): string {
  const lw = Math.max(Math.round(((height + width + 3) / 2) * 0.003), 2);
  const font = Math.max(12, Math.round(lw * 6.5));
  const parts: string[] = [];
  for (const d of detections) {
    const [x1, y1, x2, y2] = d.xyxy;
    const colour = classColour(d.cls);
    const label = `${d.name} ${d.conf.toFixed(2)}`;
    // Text width estimated (no font metrics here): 0.6 em per character, as a monospace-ish sans.
    const tw = Math.ceil(label.length * font * 0.6) + lw * 2;
    const th = Math.ceil(font * 1.3);
    const above = y1 - th >= 0;
    const ty = above ? y1 - th : y1;
    parts.push(
      `<rect x="${x1}" y="${y1}" width="${Math.max(0, x2 - x1)}" height="${Math.max(0, y2 - y1)}" fill="none" stroke="${colour}" stroke-width="${lw}"/>`,
      `<rect x="${x1 - lw / 2}" y="${ty}" width="${tw}" height="${th}" fill="${colour}"/>`,
      `<text x="${x1 + lw}" y="${ty + th - Math.ceil(font * 0.3)}" font-family="DejaVu Sans, Arial, sans-serif" font-size="${font}" fill="#ffffff">${escapeXml(label)}</text>`,
    );
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${parts.join('')}</svg>`;
}

/**
 * Writes `img` with `detections` drawn to `file`; the format follows the file's extension
 * (JPEG quality 95 for .jpg/.jpeg, as cv2.imwrite's default; PNG, WebP, TIFF as named; other
 * extensions as JPEG).
 */
export async function writeAnnotated(img: RgbImage, detections: readonly Detection[], file: string): Promise<void> {
  const svg = Buffer.from(overlaySvg(detections, img.width, img.height));
  let pipeline = sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), {
    raw: { width: img.width, height: img.height, channels: img.channels as 3 },
  }).composite([{ input: svg, top: 0, left: 0 }]);
  const ext = path.extname(file).toLowerCase();
  if (ext === '.png') pipeline = pipeline.png();
  else if (ext === '.webp') pipeline = pipeline.webp({ quality: 95 });
  else if (ext === '.tif' || ext === '.tiff') pipeline = pipeline.tiff();
  else pipeline = pipeline.jpeg({ quality: 95 });
  await pipeline.toFile(file);
}
