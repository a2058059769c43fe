/**
 * Ultralytics/YOLOv5 dataset YAML: where the splits are and what the classes are called.
 * Follows YOLOv5 utils/general.py check_dataset and utils/dataloaders.py (image listing, label
 * paths), except that a relative `path` resolves against the YAML's folder (YOLOv5 resolves it
 * against its own repository root, which means nothing in this app).
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { FreezeLabError } from '../../../shared/result.js';
import { ncSchema } from '../../../shared/train-config.js';

/** Most classes a dataset may declare: what a run accepts (ncSchema). */
export const MAX_DATA_NC = ncSchema.maxValue ?? 1000;

/** True for `/`, `C:\` and the like: never a dataset folder, and listing it would walk the disk. */
function isFilesystemRoot(p: string): boolean {
  return path.parse(p).root === p;
}

/** Image extensions YOLOv5 accepts (utils/dataloaders.py IMG_FORMATS). */
export const IMG_FORMATS: readonly string[] = ['bmp', 'dng', 'jpeg', 'jpg', 'mpo', 'png', 'tif', 'tiff', 'webp', 'pfm'];

/** Split names a data YAML may declare. */
export const SPLITS = ['train', 'val', 'test'] as const;
export type SplitName = (typeof SPLITS)[number];

/** A dataset YAML that cannot be used: says which file, what is wrong and what to do. */
export class DataConfigError extends FreezeLabError {
  constructor(code: 'not-found' | 'bad-file', message: string, hint?: string) {
    super(code, message, hint);
    this.name = 'DataConfigError';
  }
}

/** A resolved dataset YAML. */
export interface DataConfig {
  readonly yamlFile: string;
  /** Dataset root: `path` resolved against the YAML folder (the YAML folder when absent). */
  readonly root: string;
  /** Absolute sources per split: folders or .txt image lists. Absent splits are omitted. */
  readonly splits: Partial<Record<SplitName, readonly string[]>>;
  readonly nc: number;
  readonly names: readonly string[];
}

/** Reads and validates a data YAML; throws `DataConfigError` with a precise message. */
export async function loadDataConfig(yamlFile: string): Promise<DataConfig> {
  const file = path.resolve(yamlFile);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new DataConfigError(
      'not-found',
      `Dataset YAML not found: ${file}`,
      'Choose an existing data .yaml file (like coco128.yaml).',
    );
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new DataConfigError(
      'bad-file',
      `${file}: not valid YAML (${(e as Error).message.split('\n')[0]})`,
      'Fix the YAML syntax.',
    );
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new DataConfigError('bad-file', `${file}: expected a mapping with train, val and names`);
  }
  const d = doc as Record<string, unknown>;
  const yamlDir = path.dirname(file);
  const rootValue = d.path;
  if (rootValue !== undefined && rootValue !== null && typeof rootValue !== 'string') {
    throw new DataConfigError('bad-file', `${file}: 'path' must be a string (the dataset root)`);
  }
  const root = path.resolve(yamlDir, typeof rootValue === 'string' && rootValue !== '' ? rootValue : '.');
  if (isFilesystemRoot(root)) {
    throw new DataConfigError(
      'bad-file',
      `${file}: 'path' is ${root}, the root of the file system, not a dataset folder`,
      "Set 'path' to the dataset's own folder (the one holding images/ and labels/), or remove it.",
    );
  }
  let rootStat;
  try {
    rootStat = await stat(root);
  } catch {
    rootStat = undefined;
  }
  // a missing root is reported with the split that needs it (absolute splits do not)
  if (rootStat !== undefined && !rootStat.isDirectory()) {
    throw new DataConfigError(
      'bad-file',
      `${file}: dataset root ${root} is a file, not a folder`,
      "Set 'path' to the dataset's folder; a relative 'path' starts from the YAML's folder.",
    );
  }
  const splits: Partial<Record<SplitName, readonly string[]>> = {};
  for (const s of SPLITS) {
    const v = d[s];
    if (v === undefined || v === null || v === '') continue;
    const list = Array.isArray(v) ? v : [v];
    if (!list.every((x): x is string => typeof x === 'string')) {
      throw new DataConfigError('bad-file', `${file}: '${s}' must be a folder, a list of folders or a .txt file`);
    }
    const resolved: string[] = [];
    for (const x of list) {
      let p = path.resolve(root, x);
      // YOLOv5 retries '../x' as 'x' when the first does not exist.
      if (!(await exists(p)) && x.startsWith('../')) p = path.resolve(root, x.slice(3));
      if (!(await exists(p))) {
        throw new DataConfigError(
          'not-found',
          `${file}: ${s} split not found: ${p}`,
          `Check 'path' and '${s}' in the YAML; relative paths start from ${root}.`,
        );
      }
      if (isFilesystemRoot(p)) {
        throw new DataConfigError(
          'bad-file',
          `${file}: ${s} split is ${p}, the root of the file system, not an image folder`,
          `Point '${s}' at the folder of its images, e.g. images/${s}.`,
        );
      }
      resolved.push(p);
    }
    splits[s] = resolved;
  }
  if (!splits.train && !splits.val) {
    throw new DataConfigError(
      'bad-file',
      `${file}: no 'train' or 'val' split`,
      "Add 'train:' and 'val:' entries (folders or .txt image lists).",
    );
  }
  const names = parseNames(file, d.names, d.nc);
  return { yamlFile: file, root, splits, nc: names.length, names };
}

/** `names` as a list or a map {0: a, 1: b}; checked against `nc` when both are given. */
function parseNames(file: string, raw: unknown, ncRaw: unknown): string[] {
  let nc: number | undefined;
  if (ncRaw !== undefined && ncRaw !== null) {
    if (typeof ncRaw !== 'number' || !Number.isInteger(ncRaw) || ncRaw < 1) {
      throw new DataConfigError('bad-file', `${file}: 'nc' must be a positive integer, got ${JSON.stringify(ncRaw)}`);
    }
    if (ncRaw > MAX_DATA_NC) {
      throw new DataConfigError(
        'bad-file',
        `${file}: 'nc' is ${ncRaw}, over the limit of ${MAX_DATA_NC} classes (MAX_DATA_NC)`,
        'FreezeLab trains at most that many classes; check the value.',
      );
    }
    nc = ncRaw;
  }
  const tooMany = (count: number): DataConfigError =>
    new DataConfigError(
      'bad-file',
      `${file}: 'names' has ${count} entries, over the limit of ${MAX_DATA_NC} classes (MAX_DATA_NC)`,
      'FreezeLab trains at most that many classes; check the list.',
    );
  let names: string[];
  if (raw === undefined || raw === null) {
    if (nc === undefined) {
      throw new DataConfigError(
        'bad-file',
        `${file}: no 'names'`,
        "Add 'names:' as a list or a map like {0: person, 1: car}.",
      );
    }
    names = Array.from({ length: nc }, (_, i) => `class${i}`); // as YOLOv5 check_dataset
  } else if (Array.isArray(raw)) {
    if (raw.length > MAX_DATA_NC) throw tooMany(raw.length);
    names = raw.map((n) => String(n));
  } else if (typeof raw === 'object') {
    const entries = Object.entries(raw as Record<string, unknown>);
    if (entries.length > MAX_DATA_NC) throw tooMany(entries.length);
    const ids = entries.map(([k]) => Number(k));
    if (ids.some((k) => !Number.isInteger(k) || k < 0)) {
      throw new DataConfigError('bad-file', `${file}: 'names' keys must be class ids 0, 1, 2, ...`);
    }
    names = new Array<string>(entries.length);
    for (const [k, v] of entries) {
      const id = Number(k);
      if (id >= entries.length) {
        throw new DataConfigError(
          'bad-file',
          `${file}: 'names' must number classes 0..${entries.length - 1} without gaps; found id ${id}`,
        );
      }
      names[id] = String(v);
    }
  } else {
    throw new DataConfigError('bad-file', `${file}: 'names' must be a list or a map {0: name}`);
  }
  if (names.length === 0) throw new DataConfigError('bad-file', `${file}: 'names' is empty`);
  if (nc !== undefined && nc !== names.length) {
    throw new DataConfigError(
      'bad-file',
      `${file}: nc is ${nc} but names has ${names.length} entries`,
      "Make 'nc' equal the number of names, or remove 'nc'.",
    );
  }
  return names;
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/** True when the file name has an image extension YOLOv5 accepts. */
export function isImageFile(file: string): boolean {
  const i = file.lastIndexOf('.');
  return i >= 0 && IMG_FORMATS.includes(file.slice(i + 1).toLowerCase());
}

/**
 * YOLOv5 img2label_paths: the last `/images/` becomes `/labels/` and the extension `.txt`.
 */
export function imageToLabelPath(imageFile: string): string {
  const sa = `${path.sep}images${path.sep}`;
  const sb = `${path.sep}labels${path.sep}`;
  const i = imageFile.lastIndexOf(sa);
  const swapped = i >= 0 ? imageFile.slice(0, i) + sb + imageFile.slice(i + sa.length) : imageFile;
  const dot = swapped.lastIndexOf('.');
  return (dot > swapped.lastIndexOf(path.sep) ? swapped.slice(0, dot) : swapped) + '.txt';
}

/**
 * Image files of a split, sorted, as YOLOv5 LoadImagesAndLabels lists them: folders are searched
 * recursively, .txt files list one image per line (`./x` relative to the list's folder, as
 * YOLOv5; other relative lines relative to the dataset root).
 */
export async function listSplitImages(sources: readonly string[], root: string): Promise<string[]> {
  const out: string[] = [];
  for (const src of sources) {
    const st = await stat(src);
    if (st.isDirectory()) {
      let entries;
      try {
        entries = await readdir(src, { recursive: true, withFileTypes: true });
      } catch (e) {
        // e.g. EACCES on a sub-folder: a user problem with the folder, not an internal error
        throw new DataConfigError(
          'bad-file',
          `cannot list images under ${src}: ${(e as Error).message.split('\n')[0]}`,
          'Point the split at a folder you can read that holds only the dataset.',
        );
      }
      for (const e of entries) {
        if (e.isFile() || e.isSymbolicLink()) out.push(path.join(e.parentPath, e.name));
      }
    } else {
      const parent = path.dirname(src);
      const lines = (await readFile(src, 'utf8'))
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter(Boolean);
      for (const l of lines) {
        out.push(l.startsWith('./') ? path.join(parent, l.slice(2)) : path.resolve(root, l));
      }
    }
  }
  return [...new Set(out.filter(isImageFile))].sort();
}
