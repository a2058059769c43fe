/**
 * Dataset validation report as plain data (no Node, no DOM), produced by the engine's
 * `checkDataset` and shown by the UI.
 */

export type Severity = 'error' | 'warning' | 'info';

/** Every kind of problem the checker reports; each has one stable message format. */
export type ProblemKind =
  | 'field-count' // a label row with a number of values that is neither a box nor a polygon
  | 'non-numeric' // a value that is not a number
  | 'class-id' // class id out of range or not an integer
  | 'out-of-bounds' // a coordinate outside [0, 1]
  | 'zero-area' // width or height 0
  | 'duplicate' // same row twice in a file (YOLOv5 drops duplicates)
  | 'background' // image without labels (allowed: a background image)
  | 'orphan-label' // label file without an image
  | 'corrupt-image' // unreadable, corrupt or too small image (skipped)
  | 'empty-split'; // a split with no usable image

/** One problem. `text` is the full line shown to users: `file:line: reason` or `file: reason`. */
export interface DatasetProblem {
  readonly kind: ProblemKind;
  readonly severity: Severity;
  readonly split: string;
  /** Path relative to the dataset root (the YAML's `path`) when inside it, else absolute. */
  readonly file: string;
  /** 1-based line in a label file, absent for whole-file problems. */
  readonly line?: number;
  readonly reason: string;
  readonly text: string;
}

/** Counts for one class in one split. */
export interface ClassCount {
  readonly classId: number;
  readonly name: string;
  /** Images with at least one instance. */
  readonly images: number;
  readonly instances: number;
}

/** Counts for one split (train, val, test). */
export interface SplitReport {
  readonly split: string;
  /** Images found (before skipping corrupt ones). */
  readonly imagesFound: number;
  /** Usable images (found minus skipped). */
  readonly images: number;
  readonly skippedImages: number;
  /** Usable images without any label (background). */
  readonly backgrounds: number;
  /** Label rows kept. */
  readonly instances: number;
  /** Kept rows that were polygons, converted to their bounding box as YOLOv5 does. */
  readonly polygons: number;
  /** Label rows dropped (bad or duplicate). */
  readonly droppedRows: number;
  readonly perClass: readonly ClassCount[];
}

/** Result of checking a dataset YAML. */
export interface DatasetReport {
  readonly yamlFile: string;
  /** Resolved dataset root (the YAML's `path`). */
  readonly root: string;
  readonly nc: number;
  readonly names: readonly string[];
  readonly splits: readonly SplitReport[];
  readonly problems: readonly DatasetProblem[];
  readonly errors: number;
  readonly warnings: number;
  readonly infos: number;
  /** Problems beyond `maxProblems` that were counted but not listed. */
  readonly truncatedProblems: number;
  /** Wall time of the check in milliseconds. */
  readonly ms: number;
}
