/**
 * Parsing of one YOLO label file (`class cx cy w h` per line, normalized), line by line: bad rows
 * are reported and skipped, good rows kept. Pure (no I/O) so each rule is testable.
 *
 * Differences from YOLOv5 v7.0 verify_image_label, chosen so one bad line does not cost a whole
 * image: YOLOv5 rejects the image and all its labels when any row is bad; here only that row goes.
 * Polygon rows (class x1 y1 x2 y2 x3 y3 ..., 3 or more points) are accepted and converted to
 * their bounding box as YOLOv5 segments2boxes does, but per row (YOLOv5 switches the whole file
 * to polygon mode when any row has more than 6 values). Zero-area boxes are dropped with a
 * warning (YOLOv5 keeps them; they can never be matched or learned).
 */
import type { ProblemKind, Severity } from '../../../shared/report.js';

/**
 * Largest label file read (MAX_LABEL_BYTES): 10 MB is about 300,000 boxes, far beyond any real
 * image; a bigger file is reported and its image skipped, so one stray file cannot exhaust memory.
 */
export const MAX_LABEL_BYTES = 10 * 1024 * 1024;

/** One kept label row. Coordinates normalized to the image. */
export interface LabelRow {
  readonly cls: number;
  readonly cx: number;
  readonly cy: number;
  readonly w: number;
  readonly h: number;
  /** 1-based line in the label file. */
  readonly line: number;
  /** The row was a polygon converted to its box. */
  readonly polygon: boolean;
}

/** A problem on one line (the caller adds the file name). */
export interface LineProblem {
  readonly kind: ProblemKind;
  readonly severity: Severity;
  readonly line: number;
  readonly reason: string;
}

/** Parsed label file. */
export interface ParsedLabels {
  readonly rows: LabelRow[];
  readonly problems: LineProblem[];
  /** Rows dropped (errors and duplicates). */
  readonly dropped: number;
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const BOX_FIELDS = ['cx', 'cy', 'w', 'h'];

/** Parses label text for a dataset of `nc` classes. */
export function parseLabels(text: string, nc: number): ParsedLabels {
  const rows: LabelRow[] = [];
  const problems: LineProblem[] = [];
  const seen = new Map<string, number>();
  let dropped = 0;
  const lines = text.split(/\r?\n/);
  for (let li = 0; li < lines.length; li++) {
    const line = li + 1;
    const tokens = lines[li]!.trim().split(/\s+/).filter(Boolean);
    if (tokens.length === 0) continue;
    const bad = (kind: ProblemKind, severity: Severity, reason: string): void => {
      problems.push({ kind, severity, line, reason });
      dropped++;
    };
    const n = tokens.length;
    const isPolygon = n >= 7 && (n - 1) % 2 === 0;
    if (n !== 5 && !isPolygon) {
      bad('field-count', 'error', `expected 5 values (class cx cy w h), got ${n}`);
      continue;
    }
    const k = tokens.findIndex((t) => !NUMBER.test(t));
    if (k >= 0) {
      bad('non-numeric', 'error', `value ${k + 1} is not a number: "${tokens[k]}"`);
      continue;
    }
    const values = tokens.map(Number);
    const cls = values[0]!;
    if (!Number.isInteger(cls) || cls < 0 || cls >= nc) {
      bad('class-id', 'error', `class id ${tokens[0]} is not an integer in 0..${nc - 1}`);
      continue;
    }
    const fieldName = (i: number): string =>
      isPolygon ? `${i % 2 === 1 ? 'x' : 'y'}${Math.ceil(i / 2)}` : BOX_FIELDS[i - 1]!;
    const out = values.findIndex((v, i) => i > 0 && (v < 0 || v > 1));
    if (out >= 0) {
      bad('out-of-bounds', 'error', `coordinate ${fieldName(out)}=${tokens[out]} outside [0, 1]`);
      continue;
    }
    let cx = values[1]!;
    let cy = values[2]!;
    let w = values[3]!;
    let h = values[4]!;
    if (isPolygon) {
      // segments2boxes: the polygon's min/max box, as centre and size.
      let x1 = Infinity;
      let y1 = Infinity;
      let x2 = -Infinity;
      let y2 = -Infinity;
      for (let i = 1; i < n; i += 2) {
        x1 = Math.min(x1, values[i]!);
        x2 = Math.max(x2, values[i]!);
        y1 = Math.min(y1, values[i + 1]!);
        y2 = Math.max(y2, values[i + 1]!);
      }
      cx = (x1 + x2) / 2;
      cy = (y1 + y2) / 2;
      w = x2 - x1;
      h = y2 - y1;
    }
    if (w <= 0 || h <= 0) {
      bad('zero-area', 'warning', `zero-area box (w ${fmt(w)}, h ${fmt(h)})`);
      continue;
    }
    // YOLOv5 compares rows as float32 (np.unique on the label array).
    const key = [cls, cx, cy, w, h].map(Math.fround).join(' ');
    const first = seen.get(key);
    if (first !== undefined) {
      bad('duplicate', 'warning', `duplicate of line ${first}, dropped`);
      continue;
    }
    seen.set(key, line);
    rows.push({ cls, cx, cy, w, h, line, polygon: isPolygon });
  }
  return { rows, problems, dropped };
}

function fmt(v: number): string {
  return String(Math.round(v * 1e6) / 1e6);
}
