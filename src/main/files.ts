/** File helpers shared by the service and the worker. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { realpath } from 'node:fs/promises';
import path from 'node:path';

/** SHA-256 of a file, streamed (checkpoints can be hundreds of MB). */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

// ---- `~` and confinement to roots -----------------------------------------------------------

/** `~` alone, or `~/…` (`~\…` too): the home folder. `~user` is not expanded (as in most shells' quotes). */
export function expandHome(p: string, home: string): string {
  if (p === '~') return home;
  if (p.startsWith('~/') || p.startsWith('~\\')) return path.join(home, p.slice(2));
  return p;
}

/** Whether `child` is `parent` or inside it (both absolute, already resolved). */
export function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

export interface Root {
  readonly label: string;
  /** As configured (what the user sees). */
  readonly path: string;
  /** Its real path (symlinks resolved), what confinement compares against. */
  readonly real: string;
}

/** The roots that exist, with their real paths (a missing root is left out). */
export async function realRoots(candidates: readonly { label: string; path: string }[]): Promise<Root[]> {
  const roots: Root[] = [];
  for (const c of candidates) {
    const resolved = path.resolve(c.path);
    try {
      roots.push({ label: c.label, path: resolved, real: await realpath(resolved) });
    } catch {
      // Not created yet (a fresh data folder): nothing there to browse or download.
    }
  }
  return roots;
}

/** The real path of `p` when it exists and is inside one of the roots; otherwise undefined. */
export async function confinedRealPath(p: string, roots: readonly Root[]): Promise<string | undefined> {
  let real: string;
  try {
    real = await realpath(p);
  } catch {
    return undefined;
  }
  return roots.some((r) => isInside(real, r.real)) ? real : undefined;
}

/**
 * `~` in command-line arguments, as a shell would have expanded it had it seen it: the shell
 * leaves `--data=~/x` and quoted `'~/x'` alone, so the CLI expands every option value and
 * positional that is `~` or starts with `~/`.
 */
export function expandHomeInArgs<V extends Record<string, unknown>>(
  values: V,
  positionals: readonly string[],
  home: string,
): { values: V; positionals: string[] } {
  const one = (v: unknown): unknown =>
    typeof v === 'string' ? expandHome(v, home) : Array.isArray(v) ? v.map(one) : v;
  return {
    values: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, one(v)])) as V,
    positionals: positionals.map((p) => expandHome(p, home)),
  };
}
