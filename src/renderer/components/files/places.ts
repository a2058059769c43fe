/** The service's folders (`files.places`), fetched once per page, and which files it lets the page download. */
import type { FilePlaces } from '../../../shared/commands/files.js';
import { client } from '../../lib/client.js';

let places: Promise<FilePlaces | undefined> | undefined;

export function filePlaces(): Promise<FilePlaces | undefined> {
  places ??= client['files.places']({}).then((answer) => (answer.ok ? answer.value : undefined));
  return places;
}

const sepOf = (dir: string): string => (dir.includes('\\') && !dir.includes('/') ? '\\' : '/');

/** The data folder's `detect` folder, where pre-labelling writes by default (a download root too). */
export function detectDirOf(where: FilePlaces): string {
  const sep = sepOf(where.dataDir);
  return `${where.dataDir.endsWith(sep) ? where.dataDir.slice(0, -1) : where.dataDir}${sep}detect`;
}

/**
 * Whether the web host serves this file (or, zipped, this folder): inside the data folder's runs,
 * exports or detect folders (it checks real paths too).
 */
export function isDownloadable(file: string, where: FilePlaces): boolean {
  return [where.runsDir, where.exportsDir, detectDirOf(where)].some((dir) => {
    const sep = sepOf(dir);
    return file.startsWith(dir.endsWith(sep) ? dir : dir + sep);
  });
}
