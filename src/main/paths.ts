/** Where FreezeLab keeps its data: the user's data folder unless overridden. */
import os from 'node:os';
import path from 'node:path';

export interface DataPaths {
  readonly dataDir: string;
  readonly databasePath: string;
  readonly runsDir: string;
  /** The service user's home (`~`); default os.homedir(). Tests give a folder of their own. */
  readonly homeDir?: string;
}

/** The home folder `~` means, and the file browser's first root. */
export const homeDirOf = (paths: DataPaths): string => paths.homeDir ?? os.homedir();

/** Where exports made from the page go by default (served mode downloads from here and from runs/). */
export const exportsDirOf = (paths: DataPaths): string => path.join(paths.dataDir, 'exports');

/** The per-user application data folder, as Electron's `app.getPath('userData')` would give it. */
export function defaultDataDir(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): string {
  if (env.FREEZELAB_HOME) return path.resolve(env.FREEZELAB_HOME);
  const home = os.homedir();
  switch (platform) {
    case 'win32':
      return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'FreezeLab');
    case 'darwin':
      return path.join(home, 'Library', 'Application Support', 'FreezeLab');
    default:
      return path.join(env.XDG_DATA_HOME ?? path.join(home, '.local', 'share'), 'FreezeLab');
  }
}

/** `--db` wins over `FREEZELAB_DB`, which wins over the data folder's `freezelab.db`. */
export function resolveDataPaths(
  opts: { db?: string | undefined; dataDir?: string | undefined } = {},
  env: NodeJS.ProcessEnv = process.env,
): DataPaths {
  const dataDir = opts.dataDir ? path.resolve(opts.dataDir) : defaultDataDir(env);
  const databasePath = path.resolve(opts.db ?? env.FREEZELAB_DB ?? path.join(dataDir, 'freezelab.db'));
  return { dataDir, databasePath, runsDir: path.join(dataDir, 'runs') };
}
