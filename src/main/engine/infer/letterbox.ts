/**
 * Letterbox: resize keeping the aspect ratio and pad to the network shape.
 * Follows YOLOv5 v7.0 utils/augmentations.py letterbox (and the resize in
 * utils/dataloaders.py load_image), on 8-bit HWC images.
 */
import { roundHalfEven } from '../eval/numpy.js';
import { type Interpolation, type RgbImage, resizeImage } from './resize.js';

/** Options of `letterbox`, YOLOv5's defaults unless said otherwise. */
export interface LetterboxOptions {
  /** Target [height, width], or one number for a square. */
  readonly newShape: number | readonly [number, number];
  /** Pad value for every channel (114). */
  readonly color?: number;
  /** Minimal padding: pad only up to a multiple of `stride` (true, as detect.py). */
  readonly auto?: boolean;
  /** Stretch to the exact shape without keeping the ratio (false). */
  readonly scaleFill?: boolean;
  /** Allow enlarging (true; val.py and training use false). */
  readonly scaleup?: boolean;
  readonly stride?: number;
  /** Resize kernel: OpenCV INTER_LINEAR as YOLOv5's letterbox (default) or INTER_AREA. */
  readonly interpolation?: Interpolation;
}

/** Letterboxed image with the transform that maps original pixels to it. */
export interface LetterboxResult {
  readonly image: RgbImage;
  /** Scale [x, y] applied to the original. */
  readonly ratio: readonly [number, number];
  /** Padding [dw, dh] per side before rounding (YOLOv5's returned pad, possibly x.5). */
  readonly pad: readonly [number, number];
  /** Actual pixels added on the left and top. */
  readonly left: number;
  readonly top: number;
}

/** YOLOv5 letterbox over an 8-bit HWC image. */
export function letterbox(img: RgbImage, opts: LetterboxOptions): LetterboxResult {
  const [nh, nw] = typeof opts.newShape === 'number' ? [opts.newShape, opts.newShape] : opts.newShape;
  const stride = opts.stride ?? 32;
  let r = Math.min(nh / img.height, nw / img.width);
  if (opts.scaleup === false) r = Math.min(r, 1);
  let ratio: [number, number] = [r, r];
  // Python's round() (half to even), as YOLOv5 writes int(round(w * r)).
  let uw = roundHalfEven(img.width * r);
  let uh = roundHalfEven(img.height * r);
  let dw = nw - uw;
  let dh = nh - uh;
  if (opts.auto ?? true) {
    dw = mod(dw, stride);
    dh = mod(dh, stride);
  } else if (opts.scaleFill) {
    dw = 0;
    dh = 0;
    uw = nw;
    uh = nh;
    ratio = [nw / img.width, nh / img.height];
  }
  dw /= 2;
  dh /= 2;
  const resized =
    uw === img.width && uh === img.height ? img : resizeImage(img, uw, uh, opts.interpolation ?? 'linear');
  const top = roundHalfEven(dh - 0.1);
  const bottom = roundHalfEven(dh + 0.1);
  const left = roundHalfEven(dw - 0.1);
  const right = roundHalfEven(dw + 0.1);
  return { image: pad(resized, top, bottom, left, right, opts.color ?? 114), ratio, pad: [dw, dh], left, top };
}

/** np.mod for a positive divisor (result has the divisor's sign). */
function mod(a: number, b: number): number {
  return ((a % b) + b) % b;
}

/** cv2.copyMakeBorder with a constant value. */
export function pad(img: RgbImage, top: number, bottom: number, left: number, right: number, value: number): RgbImage {
  const cn = img.channels;
  const w = img.width + left + right;
  const h = img.height + top + bottom;
  const out = new Uint8Array(w * h * cn).fill(value);
  const srcRow = img.width * cn;
  for (let y = 0; y < img.height; y++) {
    out.set(img.data.subarray(y * srcRow, (y + 1) * srcRow), ((y + top) * w + left) * cn);
  }
  return { data: out, width: w, height: h, channels: cn };
}

/**
 * Size after YOLOv5 v7.0 load_image: long side `size`, each side int(side * r) (v7.0 truncates;
 * later releases take math.ceil, but the reference run truncates), at least 1 (where cv2.resize
 * would fail on a sliver image). Unchanged when the long side already is `size`.
 */
export function resizedSize(width: number, height: number, size: number): [number, number] {
  const r = size / Math.max(width, height);
  return r === 1 ? [width, height] : [Math.max(1, Math.floor(width * r)), Math.max(1, Math.floor(height * r))];
}

/**
 * YOLOv5 v7.0 load_image's resize (utils/dataloaders.py): long side to `size` ({@link resizedSize}),
 * INTER_LINEAR when augmenting or enlarging, INTER_AREA otherwise. Returns the image itself when
 * its long side already is `size`.
 */
export function resizeLongSide(img: RgbImage, size: number, augment: boolean): RgbImage {
  const r = size / Math.max(img.height, img.width);
  if (r === 1) return img;
  const [w, h] = resizedSize(img.width, img.height, size);
  return resizeImage(img, w, h, augment || r > 1 ? 'linear' : 'area');
}

/** HWC uint8 -> NHWC float32 in [0, 1] (the network input, one image). */
export function toFloatInput(img: RgbImage): Float32Array {
  const out = new Float32Array(img.data.length);
  for (let i = 0; i < out.length; i++) out[i] = img.data[i]! / 255;
  return out;
}
