/**
 * Class colours: YOLOv5's `Colors` palette (utils/plots.py), so boxes here look as they do in
 * YOLOv5's own plots. Class `c` gets `CLASS_PALETTE[c % 20]`.
 */
export const CLASS_PALETTE: readonly string[] = [
  '#FF3838',
  '#FF9D97',
  '#FF701F',
  '#FFB21D',
  '#CFD231',
  '#48F90A',
  '#92CC17',
  '#3DDB86',
  '#1A9334',
  '#00D4BB',
  '#2C99A8',
  '#00C2FF',
  '#344593',
  '#6473FF',
  '#0018EC',
  '#8438FF',
  '#520085',
  '#CB38FF',
  '#FF95C8',
  '#FF37C7',
];

/** The colour of class `cls` (any integer; negative ids wrap too). */
export function classColour(cls: number): string {
  const n = CLASS_PALETTE.length;
  return CLASS_PALETTE[((Math.trunc(cls) % n) + n) % n]!;
}

/** Black or white, whichever reads better on `hex` (for label text on a class-coloured tag). */
export function textOn(hex: string): string {
  const v = parseInt(hex.slice(1), 16);
  const r = (v >> 16) & 255;
  const g = (v >> 8) & 255;
  const b = v & 255;
  return 0.299 * r + 0.587 * g + 0.114 * b > 150 ? '#000000' : '#ffffff';
}
