/**
 * The server-side file browser (served mode: the page cannot see the user's disk, so paths are
 * picked from a listing the service makes). Confined to the user's home and FreezeLab's data
 * folder: real paths (symlinks resolved) outside both are never listed or entered.
 */
import { z } from 'zod';
import { command } from '../command.js';
import { extensionSchema } from '../ipc.js';
import { pathSchema } from '../train-config.js';

/** At most this many entries of one folder are listed (the listing says when it stopped). */
export const MAX_LIST_ENTRIES = 5000;

export interface FileRoot {
  /** "Home" or "FreezeLab data". */
  readonly label: string;
  readonly path: string;
}

export interface FileEntry {
  readonly name: string;
  /** Absolute path as listed (through the folder's path, not the symlink's target). */
  readonly path: string;
  readonly kind: 'dir' | 'file';
  /** Bytes (0 for folders). */
  readonly size: number;
  /** Last modified, ms since the epoch. */
  readonly mtime: number;
}

export interface FileListing {
  /** The folder listed (absolute). */
  readonly dir: string;
  /** Its parent, absent at a root (going up would leave the roots). */
  readonly parent?: string;
  readonly roots: readonly FileRoot[];
  /** Folders first, then files; each sorted by name. */
  readonly entries: readonly FileEntry[];
  /** Entries not shown because of the extension filter or because they are hidden (dotfiles). */
  readonly filtered: number;
  /** Symlinks (and unreadable entries) not shown because their real path is outside every root. */
  readonly refused: number;
  /** True when the folder had more than MAX_LIST_ENTRIES shown entries and the rest were left out. */
  readonly truncated: boolean;
}

/** Where things are on the service's disk (default folders for path fields). */
export interface FilePlaces {
  /** What `~` means. */
  readonly home: string;
  readonly dataDir: string;
  readonly runsDir: string;
  /** Exports made from the page go here by default; served mode downloads from here and runs/. */
  readonly exportsDir: string;
}

export const fileCommands = {
  /** The service's home, data, runs and exports folders. */
  'files.places': command<FilePlaces>()(z.object({}).strict()),
  /**
   * List a folder for the file browser. No `dir`: the home folder. Only folders inside the roots
   * (home, data folder), by real path; symlinks leading out are left out and counted.
   */
  'files.list': command<FileListing>()(
    z
      .object({
        dir: pathSchema.optional(),
        /** Show only files with these extensions (folders always show). */
        extensions: z.array(extensionSchema).max(20).optional(),
        /** Show dotfiles and dot-folders. */
        hidden: z.boolean().default(false),
      })
      .strict(),
  ),
} as const;
