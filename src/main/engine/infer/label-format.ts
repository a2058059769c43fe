/**
 * YOLO-format label lines as YOLOv5 v7.0 detect.py writes them with --save-txt:
 * `cls cx cy w h [conf]`, the box normalised to the original image size and computed in float32
 * (PyTorch's tensors) from the detection's rounded pixel corners, each number formatted with
 * Python's '%g' (6 significant digits, trailing zeros dropped, exponent form below 1e-4).
 */

/** Python's `'%g' % x` (precision 6): exact half-to-even rounding of the double's value. */
export function formatG(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const sign = x < 0 ? '-' : '';
  const a = Math.abs(x);
  // JS rounds a tie away from zero; Python to even. Exact digits tell a tie (a double next to a
  // tie differs from it within 17 significant digits, far before the 31st).
  let [mant, expText] = a.toExponential(5).split('e') as [string, string];
  const [longMant, longExp] = a.toExponential(30).split('e') as [string, string];
  const longDigits = longMant.replace('.', '');
  if (/^50*$/.test(longDigits.slice(6)) && Number(longDigits[5]) % 2 === 0) {
    mant = `${longDigits[0]}.${longDigits.slice(1, 6)}`;
    expText = longExp;
  }
  const digits = mant.replace('.', '');
  const exp = Number(expText);
  if (exp < -4 || exp >= 6) {
    const m = mant.replace(/\.?0+$/, '');
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  let text: string;
  if (exp >= 0) {
    const int = digits.slice(0, exp + 1);
    const frac = digits.slice(exp + 1).replace(/0+$/, '');
    text = frac ? `${int}.${frac}` : int;
  } else {
    text = `0.${'0'.repeat(-exp - 1)}${digits}`.replace(/0+$/, '');
  }
  return sign + text;
}

/**
 * One label line: class, centre and size normalised by the image's width and height (float32
 * arithmetic as detect.py's xyxy2xywh(...) / gn), and the confidence when `conf` is given.
 */
export function labelLine(
  cls: number,
  xyxy: readonly [number, number, number, number],
  width: number,
  height: number,
  conf?: number,
): string {
  const f = Math.fround;
  const [x1, y1, x2, y2] = xyxy.map(f) as [number, number, number, number];
  const cx = f(f(f(x1 + x2) / 2) / width);
  const cy = f(f(f(y1 + y2) / 2) / height);
  const w = f(f(x2 - x1) / width);
  const h = f(f(y2 - y1) / height);
  const values = conf === undefined ? [cls, cx, cy, w, h] : [cls, cx, cy, w, h, f(conf)];
  return values.map(formatG).join(' ');
}

/** A label line read back: class, normalised centre and size, confidence when written. */
export interface LabelLine {
  readonly cls: number;
  readonly cx: number;
  readonly cy: number;
  readonly w: number;
  readonly h: number;
  readonly conf?: number;
}

/** Reads the lines of a label file written by {@link labelLine} (blank lines ignored). */
export function parseLabelLines(text: string): LabelLine[] {
  const out: LabelLine[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line) continue;
    const v = line.split(/\s+/).map(Number);
    if ((v.length !== 5 && v.length !== 6) || v.some((n) => !Number.isFinite(n))) {
      throw new Error(`not a YOLO label line: '${line}'`);
    }
    const [cls, cx, cy, w, h, conf] = v as [number, number, number, number, number, number?];
    out.push({ cls, cx, cy, w, h, ...(conf !== undefined ? { conf } : {}) });
  }
  return out;
}
