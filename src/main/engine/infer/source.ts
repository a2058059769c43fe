/**
 * What `detect --source` names, expanded to image files as YOLOv5 v7.0 detect.py's LoadImages
 * does: a folder gives its image files (not recursive: detect.py globs `DIR/*.*`), a pattern with
 * `*`, `?` or `[` gives the files it matches (`**` crosses folders, as glob(recursive=True)), a
 * `.txt` file lists one source per line (a file, folder or pattern; relative lines are taken
 * relative to the list's folder, as dataset lists are), and an image file is itself. Each part
 * is sorted; the whole keeps the parts' order; only image extensions YOLOv5 reads are kept.
 *
 * The glob matcher is this small one rather than an npm package: the glob libraries in
 * node_modules are transitive dependencies of build tools (not pinned by the project, and not
 * packaged with the app), and Node 20 has neither fs.glob nor path.matchesGlob (Node 22).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { FreezeLabError } from '../../../shared/result.js';
import { isImageFile } from '../data/config.js';

export type SourceKind = 'image' | 'folder' | 'glob' | 'list';

export interface ExpandedSource {
  readonly kind: SourceKind;
  /** Absolute image file paths, in detect.py's order, without duplicates. */
  readonly files: readonly string[];
}

/** Whether a path is a glob pattern (Python's glob.has_magic). */
export function hasMagic(p: string): boolean {
  return /[*?[]/.test(p);
}

/**
 * A path segment pattern as a RegExp (fnmatch: `*`, `?`, `[seq]`, `[!seq]`; a leading dot is
 * matched only by a pattern that starts with one, as Python's glob hides dot files).
 */
export function segmentRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) {
        re += '\\[';
        continue;
      }
      let body = pattern.slice(i + 1, end);
      const negate = body.startsWith('!');
      if (negate) body = body.slice(1);
      re += `[${negate ? '^' : ''}${body.replace(/[\\\]^]/g, (m) => `\\${m}`)}]`;
      i = end;
    } else re += c.replace(/[.+^${}()|\\/]/g, (m) => `\\${m}`);
  }
  return new RegExp(`^${re}$`, 'u');
}

function matchesSegment(name: string, pattern: string): boolean {
  if (name.startsWith('.') && !pattern.startsWith('.')) return false;
  return segmentRegExp(pattern).test(name);
}

async function listDir(dir: string): Promise<{ name: string; dir: boolean }[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    const out: { name: string; dir: boolean }[] = [];
    for (const e of entries) {
      let isDir = e.isDirectory();
      if (e.isSymbolicLink())
        isDir = (await stat(path.join(dir, e.name)).catch(() => undefined))?.isDirectory() ?? false;
      out.push({ name: e.name, dir: isDir });
    }
    return out;
  } catch {
    return []; // glob.glob lists nothing under a folder it cannot read
  }
}

/** Files matching an absolute pattern, sorted (Python's sorted(glob.glob(p, recursive=True))). */
export async function globFiles(pattern: string): Promise<string[]> {
  const abs = path.resolve(pattern);
  const { root } = path.parse(abs);
  const parts = abs.slice(root.length).split(path.sep).filter(Boolean);
  // The literal prefix: folders without magic.
  let base = root;
  let i = 0;
  while (i < parts.length - 1 && !hasMagic(parts[i]!)) base = path.join(base, parts[i++]!);
  const rest = parts.slice(i);
  const out = new Set<string>();
  const walk = async (dir: string, k: number): Promise<void> => {
    const seg = rest[k];
    if (seg === undefined) return;
    const last = k === rest.length - 1;
    if (seg === '**') {
      // Zero folders, then each sub-folder (not hidden ones) with `**` still to match.
      if (last) {
        for (const e of await listDir(dir)) if (!e.name.startsWith('.')) out.add(path.join(dir, e.name));
      } else await walk(dir, k + 1);
      for (const e of await listDir(dir)) if (e.dir && !e.name.startsWith('.')) await walk(path.join(dir, e.name), k);
      return;
    }
    if (!hasMagic(seg)) {
      const next = path.join(dir, seg);
      const st = await stat(next).catch(() => undefined);
      if (!st) return;
      if (last) out.add(next);
      else if (st.isDirectory()) await walk(next, k + 1);
      return;
    }
    for (const e of await listDir(dir)) {
      if (!matchesSegment(e.name, seg)) continue;
      const next = path.join(dir, e.name);
      if (last) out.add(next);
      else if (e.dir) await walk(next, k + 1);
    }
  };
  await walk(base, 0);
  const files: string[] = [];
  for (const f of out) if ((await stat(f).catch(() => undefined))?.isFile()) files.push(f);
  return files.sort();
}

/** Image files directly in a folder, sorted (not hidden ones: glob's `DIR/*.*` skips them). */
async function folderImages(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch((e: unknown) => {
    throw new FreezeLabError(
      'bad-file',
      `Cannot list ${dir}: ${(e as Error).message.split('\n')[0]}`,
      'Give a folder you can read.',
    );
  });
  const files: string[] = [];
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const full = path.join(dir, e.name);
    if (e.isFile() || (e.isSymbolicLink() && (await stat(full).catch(() => undefined))?.isFile())) files.push(full);
  }
  return files.filter(isImageFile).sort();
}

async function expandOne(source: string, listDepth: number): Promise<{ kind: SourceKind; files: string[] }> {
  const abs = path.resolve(source);
  if (hasMagic(source)) return { kind: 'glob', files: (await globFiles(abs)).filter(isImageFile) };
  const st = await stat(abs).catch(() => undefined);
  if (!st) {
    throw new FreezeLabError(
      'not-found',
      `${source}: no such file or folder.`,
      'Give an image, a folder of images, a pattern such as "photos/*.jpg", or a .txt list of images.',
    );
  }
  if (st.isDirectory()) return { kind: 'folder', files: await folderImages(abs) };
  if (path.extname(abs).toLowerCase() === '.txt') {
    if (listDepth > 0) {
      throw new FreezeLabError('bad-file', `${source}: a list may not name another list.`, 'List images or folders.');
    }
    const dir = path.dirname(abs);
    const lines = (await readFile(abs, 'utf8')).split(/\r?\n/);
    const files: string[] = [];
    for (const [n, raw] of lines.entries()) {
      const line = raw.trim();
      if (!line || line.startsWith('#')) continue;
      const entry = path.resolve(dir, line);
      try {
        files.push(...(await expandOne(entry, listDepth + 1)).files);
      } catch (e) {
        if (e instanceof FreezeLabError)
          throw new FreezeLabError(e.code, `${abs} line ${n + 1}: ${e.message}`, 'Fix or remove the line.');
        throw e;
      }
    }
    return { kind: 'list', files };
  }
  if (!isImageFile(abs)) {
    throw new FreezeLabError(
      'bad-file',
      `${source} is not an image (YOLOv5 reads .${['jpg', 'png', 'bmp', 'tif', 'webp'].join(', .')} and a few more).`,
      'Give an image, a folder, a pattern or a .txt list.',
    );
  }
  return { kind: 'image', files: [abs] };
}

/** Expands a detect source to its image files (see the module comment). */
export async function expandSource(source: string): Promise<ExpandedSource> {
  const { kind, files } = await expandOne(source, 0);
  return { kind, files: [...new Set(files)] };
}
