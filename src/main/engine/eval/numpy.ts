/**
 * The few NumPy routines YOLOv5's metrics rely on, reproduced with NumPy's exact semantics so
 * that figures match val.py to the last digits.
 */

/** np.linspace(start, stop, num) with endpoint: start + i * step, last value exactly `stop`. */
export function linspace(start: number, stop: number, num: number): Float64Array {
  const out = new Float64Array(num);
  const step = (stop - start) / (num - 1);
  for (let i = 0; i < num; i++) out[i] = i * step + start;
  if (num > 1) out[num - 1] = stop;
  return out;
}

/**
 * np.interp(x, xp, fp, left, right) for one x: xp must be non-decreasing. Between duplicates of
 * xp the last one wins, as in NumPy's binary search.
 */
export function interp1(
  x: number,
  xp: ArrayLike<number>,
  fp: ArrayLike<number>,
  left = fp[0]!,
  right = fp[fp.length - 1]!,
): number {
  const n = xp.length;
  const last = n - 1;
  if (x > xp[last]!) return right;
  if (x < xp[0]!) return left;
  if (x === xp[last]) return fp[last]!;
  // Largest j with xp[j] <= x (then x < xp[j + 1] since x < xp[last]).
  let lo = 0;
  let hi = last;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (xp[mid]! <= x) lo = mid;
    else hi = mid;
  }
  const j = lo;
  const slope = (fp[j + 1]! - fp[j]!) / (xp[j + 1]! - xp[j]!);
  let y = slope * (x - xp[j]!) + fp[j]!;
  if (Number.isNaN(y)) {
    y = slope * (x - xp[j + 1]!) + fp[j + 1]!;
    if (Number.isNaN(y) && fp[j] === fp[j + 1]) y = fp[j]!;
  }
  return y;
}

/** np.interp over an array of x. */
export function interp(
  x: ArrayLike<number>,
  xp: ArrayLike<number>,
  fp: ArrayLike<number>,
  left?: number,
  right?: number,
): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = interp1(x[i]!, xp, fp, left, right);
  return out;
}

/** np.trapz(y, x): trapezoid integral. */
export function trapz(y: ArrayLike<number>, x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i + 1 < y.length; i++) s += ((x[i + 1]! - x[i]!) * (y[i + 1]! + y[i]!)) / 2;
  return s;
}

/**
 * Python's round() and NumPy's .round() (half to even: round(0.5) = 0, round(2.5) = 2), also
 * OpenCV's cvRound. The engine's one copy: YAML depth scaling, the training schedule, letterbox,
 * resize and detection boxes all use it. Never returns -0.
 */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  // Math.round rounds .5 up; Python rounds .5 to the even neighbour.
  if (Math.abs(v % 1) === 0.5 && r % 2 !== 0) return r - 1;
  return r === 0 ? 0 : r; // no -0 (Math.round(-0.1) is -0)
}
