/** The service's folders (`files.places`), fetched once per page, and which files it lets the page download. */
import type { FilePlaces } from '../../../shared/commands/files.js';
import { client } from '../../lib/client.js';

let places: Promise<FilePlaces | undefined> | undefined;

export function filePlaces(): Promise<FilePlaces | undefined> {
  places ??= client['files.places']({}).then((answer) => (answer.ok ? answer.value : undefined));
  return places;
}

/** Whether the web host serves this file: inside the data folder's runs or exports (it checks real paths too). */
export function isDownloadable(file: string, where: FilePlaces): boolean {
  return [where.runsDir, where.exportsDir].some((dir) => {
    const sep = dir.includes('\\') && !dir.includes('/') ? '\\' : '/';
    return file.startsWith(dir.endsWith(sep) ? dir : dir + sep);
  });
}
