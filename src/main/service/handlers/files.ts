/**
 * The server-side file browser: lists folders inside the roots (home, the data folder) by real
 * path, so a symlink never leads out of them.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Handlers } from '../../../shared/contract.js';
import { MAX_LIST_ENTRIES, type FileEntry, type fileCommands } from '../../../shared/commands/files.js';
import { FreezeLabError } from '../../../shared/result.js';
import { confinedRealPath, realRoots, type Root } from '../../files.js';
import { exportsDirOf, homeDirOf, type DataPaths } from '../../paths.js';
import type { ServiceContext } from '../service.js';

type AreaHandlers = Pick<Handlers<ServiceContext>, keyof typeof fileCommands>;

/** The file browser's roots: home first, then the data folder (when it is not inside home it adds a place). */
export function browseRoots(paths: DataPaths): Promise<Root[]> {
  return realRoots([
    { label: 'Home', path: homeDirOf(paths) },
    { label: 'FreezeLab data', path: paths.dataDir },
  ]);
}

const hasExtension = (name: string, extensions: readonly string[]): boolean => {
  const lower = name.toLowerCase();
  return extensions.some((ext) => lower.endsWith(`.${ext.toLowerCase()}`));
};

export const fileHandlers: AreaHandlers = {
  async 'files.places'(_args, ctx) {
    const { dataDir, runsDir } = ctx.paths;
    return { home: homeDirOf(ctx.paths), dataDir, runsDir, exportsDir: exportsDirOf(ctx.paths) };
  },

  async 'files.list'(args, ctx) {
    const roots = await browseRoots(ctx.paths);
    const home = homeDirOf(ctx.paths);
    const dir = path.resolve(home, args.dir ?? home);
    const real = await confinedRealPath(dir, roots);
    if (!real) {
      throw new FreezeLabError(
        'not-found',
        `${dir} does not exist or is outside the folders the browser shows (your home and FreezeLab's data folder).`,
        'Pick a folder inside your home or the data folder, or type the path into the field.',
      );
    }
    if (!(await stat(real)).isDirectory()) {
      throw new FreezeLabError('invalid-input', `${dir} is a file, not a folder.`, 'Open the folder that holds it.');
    }
    let filtered = 0;
    let refused = 0;
    const kept: { name: string; kind: 'dir' | 'file'; target: string }[] = [];
    const dirents = await readdir(real, { withFileTypes: true }).catch((error: unknown) => {
      throw new FreezeLabError('bad-file', `${dir} cannot be read: ${(error as Error).message}.`);
    });
    await Promise.all(
      dirents.map(async (d) => {
        if (!args.hidden && d.name.startsWith('.')) return void filtered++;
        let target = path.join(real, d.name);
        let kind: 'dir' | 'file' | undefined = d.isDirectory() ? 'dir' : d.isFile() ? 'file' : undefined;
        if (d.isSymbolicLink()) {
          // Followed only when its real path stays inside a root; dangling or leading out: left out.
          const inside = await confinedRealPath(target, roots);
          if (!inside) return void refused++;
          target = inside;
          const s = await stat(inside).catch(() => undefined);
          kind = s?.isDirectory() ? 'dir' : s?.isFile() ? 'file' : undefined;
        }
        if (!kind) return; // sockets, devices, fifos
        if (kind === 'file' && args.extensions && !hasExtension(d.name, args.extensions)) return void filtered++;
        kept.push({ name: d.name, kind, target });
      }),
    );
    kept.sort((a, b) => (a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === 'dir' ? -1 : 1));
    const truncated = kept.length > MAX_LIST_ENTRIES;
    const entries: FileEntry[] = (
      await Promise.all(
        kept.slice(0, MAX_LIST_ENTRIES).map(async (k): Promise<FileEntry | undefined> => {
          const s = await stat(k.target).catch(() => undefined);
          if (!s) return undefined; // gone or unreadable since readdir
          return {
            name: k.name,
            path: path.join(dir, k.name),
            kind: k.kind,
            size: k.kind === 'file' ? s.size : 0,
            mtime: Math.round(s.mtimeMs),
          };
        }),
      )
    ).filter((e): e is FileEntry => e !== undefined);
    // Up while the parent is still inside a root (from a data folder inside home, up into home).
    const parentDir = path.dirname(dir);
    const parent = parentDir !== dir && (await confinedRealPath(parentDir, roots)) ? parentDir : undefined;
    return {
      dir,
      ...(parent ? { parent } : {}),
      roots: roots.map((r) => ({ label: r.label, path: r.path })),
      entries,
      filtered,
      refused,
      truncated,
    };
  },
};
