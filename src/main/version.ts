/** The app's name and version, read once from package.json (works from src/ and dist/). */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

interface PackageJson {
  name: string;
  productName?: string;
  version: string;
}

let cached: PackageJson | undefined;

export function packageInfo(): PackageJson {
  cached ??= JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as PackageJson;
  return cached;
}
