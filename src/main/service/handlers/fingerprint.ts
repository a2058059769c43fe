/** Identities recorded with a run: which data and which weights it trained on. */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { FreezeLabError } from '../../../shared/result.js';
import { loadDataConfig, listSplitImages } from '../../engine/data/config.js';
import { sha256File } from '../../files.js';

/**
 * A fingerprint of a dataset as configured: the YAML's text and, per split, every image path with
 * its size and modification time (labels follow images). Two runs with the same fingerprint saw
 * the same files; it is cheap enough to compute at queue time (a stat per image).
 */
export async function datasetFingerprint(dataYaml: string): Promise<string> {
  const cfg = await loadDataConfig(dataYaml);
  const hash = createHash('sha256');
  hash.update(await readFile(cfg.yamlFile));
  for (const [split, sources] of Object.entries(cfg.splits)) {
    const images = await listSplitImages(sources, cfg.root);
    hash.update(`\n${split}:${images.length}\n`);
    for (const image of images) {
      const info = await stat(image).catch(() => undefined);
      hash.update(`${image}\t${info?.size ?? -1}\t${info?.mtimeMs ?? -1}\n`);
    }
  }
  return hash.digest('hex');
}

export async function weightsDigest(file: string): Promise<string> {
  await stat(file).catch(() => {
    throw new FreezeLabError('not-found', `${file}: no such weights file.`, 'Give a .pt or .safetensors file.');
  });
  return sha256File(file);
}
