/**
 * Target assignment for the YOLOv5 loss, on the host: follows YOLOv5 v7.0 utils/loss.py
 * ComputeLoss.build_targets (anchor ratio test, two neighbouring cells with offset 0.5, clamped
 * cell indices) in the same order as PyTorch, with float32 rounding where a comparison depends on it.
 * Targets are few (tens to hundreds a batch), so plain JS is cheaper than tensor bookkeeping.
 */

/** Shape of one level's raw map [bs, na, ny, nx, 5+nc]. */
export interface LevelShape {
  readonly bs: number;
  readonly na: number;
  readonly ny: number;
  readonly nx: number;
}

/** Positives of one level, in PyTorch's order (offset-major, then anchor, then target). */
export interface LevelTargets {
  /** Number of positives. */
  readonly n: number;
  /** Row in the flattened map [bs*na*ny*nx, 5+nc]: ((b*na + a)*ny + gj)*nx + gi. */
  readonly row: Int32Array;
  /** Class of each positive. */
  readonly cls: Int32Array;
  /** Target box [n*4]: x, y relative to the cell (gxy - gij), w, h, in grid units. */
  readonly tbox: Float32Array;
  /** Anchor w, h of each positive [n*2], grid units. */
  readonly anchorWh: Float32Array;
}

const f32 = Math.fround;
const ROW = 6;
/** Neighbour offsets [0,0], [1,0], [0,1], [-1,0], [0,-1] times g = 0.5. */
const OFFSETS: readonly (readonly [number, number])[] = [
  [0, 0],
  [0.5, 0],
  [0, 0.5],
  [-0.5, 0],
  [0, -0.5],
];

/** Thrown when a targets array is malformed (a bug in the data loader, not user input). */
export class TargetsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TargetsError';
  }
}

/**
 * Builds the positives of every level.
 * @param targets rows [image, class, cx, cy, w, h], coordinates normalised to the input image
 * @param shapes per level, the raw map shape
 * @param anchors per level, [na*2] anchor w, h in grid units (the `anchors` buffer of Detect)
 * @param anchorT hyp anchor_t: keep a target for an anchor when max(r, 1/r) < anchor_t
 */
export function buildTargets(
  targets: Float32Array,
  shapes: readonly LevelShape[],
  anchors: readonly Float32Array[],
  anchorT: number,
): LevelTargets[] {
  if (targets.length % ROW !== 0) {
    throw new TargetsError(`targets length ${targets.length} is not a multiple of 6 ([img, cls, cx, cy, w, h] rows)`);
  }
  const nt = targets.length / ROW;
  const threshold = f32(anchorT);
  return shapes.map((shape, level) => {
    const anc = anchors[level];
    if (!anc || anc.length !== shape.na * 2) {
      throw new TargetsError(`level ${level}: expected ${shape.na} anchors, got ${anc ? anc.length / 2 : 0}`);
    }
    for (let t = 0; t < nt; t++) {
      const b = targets[t * ROW] ?? -1;
      if (!(b >= 0 && b < shape.bs && Number.isInteger(b))) {
        throw new TargetsError(`target ${t}: image index ${b} outside the batch of ${shape.bs}`);
      }
    }
    return levelTargets(targets, nt, shape, anc, threshold);
  });
}

interface Kept {
  t: number;
  a: number;
  gx: number;
  gy: number;
  gw: number;
  gh: number;
  /** Neighbour masks j, k, l, m (left, up, right, down). */
  masks: readonly [boolean, boolean, boolean, boolean];
}

function levelTargets(
  targets: Float32Array,
  nt: number,
  shape: LevelShape,
  anc: Float32Array,
  threshold: number,
): LevelTargets {
  const { na, ny, nx } = shape;
  const kept: Kept[] = [];
  // t = targets * gain (gain = [1, 1, nx, ny, nx, ny]); PyTorch order: anchor-major, then target.
  for (let a = 0; a < na; a++) {
    const aw = anc[a * 2] ?? 1;
    const ah = anc[a * 2 + 1] ?? 1;
    for (let t = 0; t < nt; t++) {
      const o = t * ROW;
      const gw = f32((targets[o + 4] ?? 0) * nx);
      const gh = f32((targets[o + 5] ?? 0) * ny);
      const rw = f32(gw / aw);
      const rh = f32(gh / ah);
      const worst = Math.max(rw, f32(1 / rw), rh, f32(1 / rh));
      if (!(worst < threshold)) continue;
      const gx = f32((targets[o + 2] ?? 0) * nx);
      const gy = f32((targets[o + 3] ?? 0) * ny);
      const ix = f32(nx - gx); // gxi, the inverse position
      const iy = f32(ny - gy);
      kept.push({
        t,
        a,
        gx,
        gy,
        gw,
        gh,
        masks: [gx % 1 < 0.5 && gx > 1, gy % 1 < 0.5 && gy > 1, ix % 1 < 0.5 && ix > 1, iy % 1 < 0.5 && iy > 1],
      });
    }
  }
  // t.repeat((5, 1, 1))[j]: offset-major over the kept rows.
  let n = 0;
  for (const k of kept) n += 1 + k.masks.filter(Boolean).length;
  const row = new Int32Array(n);
  const cls = new Int32Array(n);
  const tbox = new Float32Array(n * 4);
  const anchorWh = new Float32Array(n * 2);
  let p = 0;
  OFFSETS.forEach(([ox, oy], oi) => {
    for (const k of kept) {
      if (oi > 0 && !k.masks[oi - 1]) continue;
      const o = k.t * ROW;
      const b = targets[o] ?? 0;
      // gij = (gxy - offsets).long() truncates; indices are clamped in place, and tbox uses them.
      const gi = clamp(Math.trunc(f32(k.gx - ox)), 0, nx - 1);
      const gj = clamp(Math.trunc(f32(k.gy - oy)), 0, ny - 1);
      row[p] = ((b * na + k.a) * ny + gj) * nx + gi;
      cls[p] = Math.trunc(targets[o + 1] ?? 0);
      tbox[p * 4] = f32(k.gx - gi);
      tbox[p * 4 + 1] = f32(k.gy - gj);
      tbox[p * 4 + 2] = k.gw;
      tbox[p * 4 + 3] = k.gh;
      anchorWh[p * 2] = anc[k.a * 2] ?? 0;
      anchorWh[p * 2 + 1] = anc[k.a * 2 + 1] ?? 0;
      p++;
    }
  });
  return { n, row, cls, tbox, anchorWh };
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}
