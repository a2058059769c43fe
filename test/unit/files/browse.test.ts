/** The server-side file browser (`files.list`): confined to home and the data folder by real path. */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_LIST_ENTRIES, type FileListing } from '../../../src/shared/commands/files.js';
import { initBackend } from '../../../src/main/engine/tf/backend.js';
import { resolveDataPaths } from '../../../src/main/paths.js';
import { createService } from '../../../src/main/service/service.js';
import { tempDir } from '../../helpers/service.js';

/** A home with folders, files, dotfiles and symlinks in and out; the data folder outside it. */
function fixture() {
  const home = tempDir('freezelab-home-');
  const dataDir = tempDir('freezelab-data-');
  const outside = tempDir('freezelab-outside-');
  writeFileSync(path.join(outside, 'secret.txt'), 'not yours');
  mkdirSync(path.join(home, 'datasets', 'coco'), { recursive: true });
  writeFileSync(path.join(home, 'datasets', 'coco', 'coco.yaml'), 'nc: 1\n');
  writeFileSync(path.join(home, 'datasets', 'coco', 'notes.txt'), 'hello');
  writeFileSync(path.join(home, 'weights.pt'), Buffer.alloc(1234));
  writeFileSync(path.join(home, '.bashrc'), '# hidden');
  mkdirSync(path.join(home, '.cache'));
  symlinkSync(outside, path.join(home, 'escape')); // a folder link leading out
  symlinkSync(path.join(outside, 'secret.txt'), path.join(home, 'secret-link.txt')); // a file link leading out
  symlinkSync('/etc', path.join(home, 'etc'));
  symlinkSync(path.join(home, 'datasets'), path.join(home, 'ds-link')); // stays inside: followed
  symlinkSync(path.join(home, 'nowhere'), path.join(home, 'dangling'));
  mkdirSync(path.join(dataDir, 'runs'), { recursive: true });
  const service = createService({
    host: 'web',
    runJobs: false,
    paths: { ...resolveDataPaths({ dataDir }, {}), homeDir: home },
    loadBackend: () => initBackend(),
  });
  return { home, dataDir, outside, service };
}

describe('files.list: the server-side file browser', () => {
  const { home, dataDir, outside, service } = fixture();
  afterAll(() => service.close());
  const list = async (input: object): Promise<FileListing> => {
    const result = await service.dispatch('files.list', input);
    if (!result.ok) throw new Error(result.error.message);
    return result.value as FileListing;
  };
  const names = (l: FileListing) => l.entries.map((e) => `${e.kind}:${e.name}`);

  it('starts at home; roots are home and the data folder; folders first, dotfiles hidden', async () => {
    const l = await list({});
    expect(l.dir).toBe(home);
    expect(l.parent).toBeUndefined(); // home's parent is outside every root
    expect(l.roots).toEqual([
      { label: 'Home', path: home },
      { label: 'FreezeLab data', path: dataDir },
    ]);
    expect(names(l)).toEqual(['dir:datasets', 'dir:ds-link', 'file:weights.pt']);
    expect(l.entries.find((e) => e.name === 'weights.pt')).toMatchObject({
      size: 1234,
      path: path.join(home, 'weights.pt'),
    });
    expect(l.filtered).toBe(2); // .bashrc, .cache
    expect(l.truncated).toBe(false);
  });

  it('never lists or follows a symlink whose real path leaves the roots (counted as refused)', async () => {
    const l = await list({});
    const shown = l.entries.map((e) => e.name);
    for (const name of ['escape', 'secret-link.txt', 'etc', 'dangling']) expect(shown).not.toContain(name);
    expect(l.refused).toBe(4);
    // Entering the link by its path is refused too, as is any folder outside the roots.
    for (const dir of [path.join(home, 'escape'), path.join(home, 'etc'), outside, '/etc', path.join(home, '..')]) {
      const result = await service.dispatch('files.list', { dir });
      expect(result, dir).toMatchObject({ ok: false, error: { code: 'not-found' } });
    }
  });

  it('follows a symlink that stays inside, listing through the link path, with a parent', async () => {
    const l = await list({ dir: path.join(home, 'ds-link') });
    expect(l.dir).toBe(path.join(home, 'ds-link'));
    expect(l.parent).toBe(home);
    expect(names(l)).toEqual(['dir:coco']);
    expect(l.entries[0]!.path).toBe(path.join(home, 'ds-link', 'coco'));
  });

  it('filters by extension (folders always show), shows dotfiles on request', async () => {
    const coco = await list({ dir: path.join(home, 'datasets', 'coco'), extensions: ['yaml', 'yml'] });
    expect(names(coco)).toEqual(['file:coco.yaml']);
    expect(coco.filtered).toBe(1);
    const top = await list({ extensions: ['yaml'] });
    expect(names(top)).toEqual(['dir:datasets', 'dir:ds-link']);
    const hidden = await list({ hidden: true });
    expect(names(hidden)).toEqual(['dir:.cache', 'dir:datasets', 'dir:ds-link', 'file:.bashrc', 'file:weights.pt']);
  });

  it('lists the data folder as a root; a file is not a folder', async () => {
    const l = await list({ dir: dataDir });
    expect(names(l)).toContain('dir:runs');
    const file = await service.dispatch('files.list', { dir: path.join(home, 'weights.pt') });
    expect(file).toMatchObject({ ok: false, error: { code: 'invalid-input' } });
  });

  it('expands ~ in the folder asked for', async () => {
    expect((await list({ dir: '~' })).dir).toBe(home);
    expect((await list({ dir: '~/datasets' })).dir).toBe(path.join(home, 'datasets'));
  });

  it(`lists at most ${MAX_LIST_ENTRIES} entries, saying so`, async () => {
    const big = path.join(dataDir, 'big');
    mkdirSync(big);
    for (let i = 0; i <= MAX_LIST_ENTRIES; i++) writeFileSync(path.join(big, `f${String(i).padStart(5, '0')}.txt`), '');
    const l = await list({ dir: big });
    expect(l.entries).toHaveLength(MAX_LIST_ENTRIES);
    expect(l.truncated).toBe(true);
    expect(l.entries[0]!.name).toBe('f00000.txt');
    const filtered = await list({ dir: big, extensions: ['yaml'] });
    expect(filtered).toMatchObject({ truncated: false, filtered: MAX_LIST_ENTRIES + 1, entries: [] });
  });

  it('refuses bad extensions', async () => {
    const result = await service.dispatch('files.list', { extensions: ['../x'] });
    expect(result).toMatchObject({ ok: false, error: { code: 'invalid-input' } });
  });
});
