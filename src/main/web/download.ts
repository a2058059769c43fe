/**
 * `GET /api/download?path=…` (token checked by the server like every request): streams a file of
 * the data folder's runs or exports as an attachment. Confined by real path, so neither `..` nor
 * a symlink reaches anything else (the database, the home folder, /etc).
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { confinedRealPath, expandHome, isInside, realRoots } from '../files.js';
import { exportsDirOf, homeDirOf, type DataPaths } from '../paths.js';

export const DOWNLOAD_PATH = '/api/download';

/** The folders downloads may come from: run folders (checkpoints, CSV, JSON) and exports. */
export function downloadRoots(paths: DataPaths): { label: string; path: string }[] {
  return [
    { label: 'runs', path: paths.runsDir },
    { label: 'exports', path: exportsDirOf(paths) },
  ];
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
      : reply(403, `Forbidden: only files in FreezeLab's runs and exports folders can be downloaded, not ${file}.`);
  }
  const info = await stat(real).catch(() => undefined);
  if (!info?.isFile()) {
    return reply(404, `Not a file: ${file}.`);
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
