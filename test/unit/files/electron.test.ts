/** Electron's native path dialogs and "Show in folder": the IPC logic, without the Electron binary. */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  dialogOptions,
  handlePickPath,
  showInFolderTarget,
  type DialogOptions,
} from '../../../src/main/electron/ipc.js';
import { IPC_PICK_PATH, IPC_SHOW_IN_FOLDER, pickPathRequestSchema } from '../../../src/shared/ipc.js';
import { tempDir } from '../../helpers/service.js';

const rendererUrl = 'file:///opt/FreezeLab/resources/app.asar/dist/renderer/index.html';
const home = '/home/ann';

describe('native dialogs over IPC', () => {
  it('turns a pick request into open/save dialog options (filters, folder mode, ~ in the start path)', () => {
    const open = dialogOptions(
      pickPathRequestSchema.parse({
        mode: 'open-file',
        extensions: ['yaml', 'yml'],
        title: 'Dataset YAML',
        defaultPath: '~/d.yaml',
      }),
      home,
    );
    expect(open).toEqual({
      kind: 'open',
      title: 'Dataset YAML',
      defaultPath: '/home/ann/d.yaml',
      properties: ['openFile'],
      filters: [
        { name: '.yaml, .yml', extensions: ['yaml', 'yml'] },
        { name: 'All files', extensions: ['*'] },
      ],
    });
    const folder = dialogOptions(pickPathRequestSchema.parse({ mode: 'open-folder', extensions: ['pt'] }), home);
    expect(folder).toMatchObject({ kind: 'open', properties: ['openDirectory', 'createDirectory'], filters: [] });
    expect(folder.defaultPath).toBeUndefined();
    const save = dialogOptions(pickPathRequestSchema.parse({ mode: 'save-file', extensions: ['onnx'] }), home);
    expect(save).toMatchObject({ kind: 'save', properties: ['createDirectory', 'showOverwriteConfirmation'] });
  });

  it('answers the chosen path, undefined when cancelled; refuses untrusted pages and bad input without a dialog', async () => {
    const shown: DialogOptions[] = [];
    const show = (answer: { canceled: boolean; path?: string }) => async (options: DialogOptions) => {
      shown.push(options);
      return answer;
    };
    const request = { mode: 'open-file', extensions: ['pt'] };
    expect(
      await handlePickPath(rendererUrl, rendererUrl, request, home, show({ canceled: false, path: '/w.pt' })),
    ).toBe('/w.pt');
    expect(await handlePickPath(rendererUrl, rendererUrl, request, home, show({ canceled: true }))).toBeUndefined();
    expect(shown).toHaveLength(2);
    for (const [sender, raw] of [
      ['https://evil.example/', request],
      [rendererUrl, { mode: 'delete-everything' }],
      [rendererUrl, { mode: 'open-file', extensions: ['../../x'] }],
      [rendererUrl, { mode: 'open-file', extra: 1 }],
      [rendererUrl, 'open-file'],
    ] as const) {
      expect(
        await handlePickPath(sender, rendererUrl, raw, home, show({ canceled: false, path: '/x' })),
      ).toBeUndefined();
    }
    expect(shown).toHaveLength(2);
  });

  it('shows in folder only existing absolute paths from our page (~ expanded)', () => {
    const dir = tempDir();
    const file = path.join(dir, 'best.pt');
    writeFileSync(file, 'x');
    expect(showInFolderTarget(rendererUrl, rendererUrl, file, home)).toBe(file);
    expect(showInFolderTarget(rendererUrl, rendererUrl, '~/best.pt', dir)).toBe(file);
    expect(showInFolderTarget('https://evil.example/', rendererUrl, file, home)).toBeUndefined();
    expect(showInFolderTarget(rendererUrl, rendererUrl, 'relative/best.pt', home)).toBeUndefined();
    expect(showInFolderTarget(rendererUrl, rendererUrl, path.join(dir, 'missing'), home)).toBeUndefined();
    expect(showInFolderTarget(rendererUrl, rendererUrl, 42, home)).toBeUndefined();
  });

  it('the preload repeats the channel names; main wires them to the dialog and shell', () => {
    const preload = readFileSync(new URL('../../../src/main/electron/preload.cts', import.meta.url), 'utf8');
    expect(preload).toContain(`const IPC_PICK_PATH = '${IPC_PICK_PATH}'`);
    expect(preload).toContain(`const IPC_SHOW_IN_FOLDER = '${IPC_SHOW_IN_FOLDER}'`);
    expect([...preload.matchAll(/^\s{2}(\w+): \(/gm)].map((m) => m[1])).toEqual([
      'invoke',
      'onEvent',
      'pickPath',
      'showInFolder',
    ]);
    const main = readFileSync(new URL('../../../src/main/electron/main.ts', import.meta.url), 'utf8');
    expect(main).toMatch(/ipcMain\.handle\(IPC_PICK_PATH[\s\S]*handlePickPath/);
    expect(main).toMatch(/ipcMain\.handle\(IPC_SHOW_IN_FOLDER[\s\S]*showInFolderTarget[\s\S]*shell\.showItemInFolder/);
  });
});
