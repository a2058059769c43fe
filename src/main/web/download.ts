/**
 * `GET /api/download?path=…` (token checked by the server like every request): streams a file of
 * the data folder's runs, exports or detect (pre-label output) folders as an attachment;
 * `&zip=1` with a folder there streams the folder as a `.zip` made on the fly (bounded by
 * `ZIP_LIMITS`). Confined by real path, so neither `..` nor a symlink reaches anything else (the
 * database, the home folder, /etc).
 */
import { createReadStream } from 'node:fs';
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { Zip, ZipDeflate, ZipPassThrough } from 'fflate';
import { confinedRealPath, expandHome, isInside, realRoots, type Root } from '../files.js';
import { exportsDirOf, homeDirOf, type DataPaths } from '../paths.js';

export const DOWNLOAD_PATH = '/api/download';

/** The folders downloads may come from: run folders (checkpoints, CSV, JSON), exports, pre-label output. */
export function downloadRoots(paths: DataPaths): { label: string; path: string }[] {
  return [
    { label: 'runs', path: paths.runsDir },
    { label: 'exports', path: exportsDirOf(paths) },
    { label: 'detect', path: path.join(paths.dataDir, 'detect') },
  ];
}

/** How much one folder download may hold: refused, saying so, above either. */
export interface ZipLimits {
  readonly maxBytes: number;
  readonly maxFiles: number;
}
export const ZIP_LIMITS: ZipLimits = { maxBytes: 500 * 1024 * 1024, maxFiles: 100_000 };

/** A file of a folder download: its name in the zip (`/`-separated) and its real path. */
export interface ZipEntry {
  readonly name: string;
  readonly file: string;
  readonly bytes: number;
}

/** Thrown by `zipEntries` when the folder holds more than the limits allow. */
export class ZipTooLarge extends Error {}

const mb = (n: number): string => `${Math.round(n / (1024 * 1024))} MB`;

/**
 * The files under `dir` (a real path inside a root), sorted by name, for a zip. Symlinks are
 * followed only when their target is inside a root too (the rest are left out and counted);
 * dotfiles are included (a folder's own files). Stops as soon as a limit is passed.
 */
export async function zipEntries(
  dir: string,
  roots: readonly Root[],
  limits: ZipLimits = ZIP_LIMITS,
): Promise<{ entries: ZipEntry[]; bytes: number; leftOut: number }> {
  const entries: ZipEntry[] = [];
  let bytes = 0;
  let leftOut = 0;
  const seen = new Set<string>([dir]);
  async function walk(real: string, prefix: string): Promise<void> {
    const names = (await readdir(real)).sort();
    for (const name of names) {
      const full = path.join(real, name);
      const info = await lstat(full).catch(() => undefined);
      if (!info) continue;
      let target = full;
      if (info.isSymbolicLink()) {
        const confined = await confinedRealPath(full, roots);
        if (!confined) {
          leftOut++;
          continue;
        }
        target = confined;
      }
      const st = info.isSymbolicLink() ? await stat(target).catch(() => undefined) : info;
      if (!st) continue;
      if (st.isDirectory()) {
        const key = await realpath(target);
        if (seen.has(key)) continue; // a link back up: once is enough
        seen.add(key);
        await walk(target, `${prefix}${name}/`);
      } else if (st.isFile()) {
        entries.push({ name: `${prefix}${name}`, file: target, bytes: st.size });
        bytes += st.size;
        if (entries.length > limits.maxFiles) {
          throw new ZipTooLarge(
            `more than ${limits.maxFiles.toLocaleString('en-US')} files: too many for one download.`,
          );
        }
        if (bytes > limits.maxBytes) {
          throw new ZipTooLarge(`more than ${mb(limits.maxBytes)}: too large for one download.`);
        }
      }
    }
  }
  await walk(dir, '');
  return { entries, bytes, leftOut };
}

/** Already-compressed files are stored; the rest (labels, CSV, JSON, YAML) deflated. */
const STORED = /\.(jpe?g|png|webp|gif|zip|gz|pt|onnx|safetensors|bin)$/i;

/** Writes `data` to `res`, waiting for it to drain when its buffer is full. */
function writeDrained(res: ServerResponse, data: Uint8Array): Promise<void> {
  if (res.write(data)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** Streams the entries as a zip into `res`, one file at a time (memory bounded by a chunk). */
async function streamZip(entries: readonly ZipEntry[], res: ServerResponse): Promise<void> {
  // The client went away before the end (a cancelled download): stop reading files.
  let closed = false;
  res.on('close', () => (closed = !res.writableFinished));
  let pending: Promise<void> = Promise.resolve();
  let failure: Error | undefined;
  const zip = new Zip((err, chunk, final) => {
    if (err) {
      failure = err;
      return;
    }
    pending = pending.then(() => writeDrained(res, chunk));
    if (final) pending = pending.then(() => void res.end());
  });
  try {
    for (const entry of entries) {
      if (closed || failure) break;
      const part = STORED.test(entry.name) ? new ZipPassThrough(entry.name) : new ZipDeflate(entry.name, { level: 6 });
      zip.add(part);
      for await (const chunk of createReadStream(entry.file)) {
        part.push(chunk as Buffer);
        await pending;
        if (closed) break;
      }
      part.push(new Uint8Array(0), true);
      await pending;
    }
  } catch {
    // A file removed or unreadable half-way: the headers are sent, so the only honest answer is
    // to cut the transfer (the browser reports a failed download, not a truncated zip).
    closed = true;
  }
  if (closed || failure) return void res.destroy();
  zip.end();
  await pending;
}

/** `attachment` with an ASCII fallback name and the exact UTF-8 name (RFC 6266 / 5987). */
export function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

type Reply = (status: number, text: string) => void;

export async function serveDownload(
  paths: DataPaths,
  url: URL,
  req: IncomingMessage,
  res: ServerResponse,
  reply: Reply,
  limits: ZipLimits = ZIP_LIMITS,
): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, 'Use GET for downloads.');
  const asked = url.searchParams.get('path')?.trim();
  if (!asked) return reply(400, 'Say which file: /api/download?path=<absolute path on the server>.');
  const file = path.resolve(expandHome(asked, homeDirOf(paths)));
  const roots = await realRoots(downloadRoots(paths));
  const real = await confinedRealPath(file, roots);
  if (!real) {
    // Missing inside runs/ or exports/: 404. Anything else (outside, or a link leading out): 403,
    // whether it exists or not, so the route tells nothing about the rest of the disk.
    const exists = await stat(file).then(
      () => true,
      () => false,
    );
    const underRoot = roots.some((r) => isInside(file, r.path) || isInside(file, r.real));
    return !exists && underRoot
      ? reply(404, `Not found: ${file}.`)
      : reply(
          403,
          `Forbidden: only files in FreezeLab's runs, exports and detect folders can be downloaded, not ${file}.`,
        );
  }
  const info = await stat(real).catch(() => undefined);
  const asZip = ['1', 'true'].includes(url.searchParams.get('zip') ?? '');
  if (info?.isDirectory() && asZip) {
    let listed: Awaited<ReturnType<typeof zipEntries>>;
    try {
      listed = await zipEntries(real, roots, limits);
    } catch (error) {
      if (!(error instanceof ZipTooLarge)) throw error;
      return reply(
        413,
        `${file} holds ${error.message} Download its files one by one, or copy the folder from the server.`,
      );
    }
    res.writeHead(200, {
      'Content-Type': 'application/zip',
      'Content-Disposition': contentDisposition(`${path.basename(file) || 'files'}.zip`),
      'X-Zip-Files': String(listed.entries.length),
    });
    if (req.method === 'HEAD') return void res.end();
    return streamZip(listed.entries, res);
  }
  if (asZip) return reply(400, `Not a folder: ${file}; zip=1 downloads a folder as a zip.`);
  if (!info?.isFile()) {
    return reply(
      404,
      info?.isDirectory() ? `${file} is a folder: add &zip=1 to download it as a zip.` : `Not a file: ${file}.`,
    );
  }
  res.writeHead(200, {
    'Content-Type': 'application/octet-stream',
    'Content-Length': String(info.size),
    'Content-Disposition': contentDisposition(path.basename(file)),
  });
  if (req.method === 'HEAD') return void res.end();
  const stream = createReadStream(real);
  stream.on('error', () => res.destroy());
  req.on('close', () => stream.destroy());
  stream.pipe(res);
}
