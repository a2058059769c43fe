import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { handleInvoke, isTrustedSender } from '../../../src/main/electron/ipc.js';
import { IPC_EVENT, IPC_INVOKE, PRELOAD_GLOBAL } from '../../../src/shared/ipc.js';
import { testService } from '../../helpers/service.js';

const rendererUrl = 'file:///opt/FreezeLab/resources/app.asar/dist/renderer/index.html';

describe('Electron IPC handler (through the shared service)', () => {
  const service = testService('electron');

  it('trusts only the app page itself', () => {
    expect(isTrustedSender(rendererUrl, rendererUrl)).toBe(true);
    expect(isTrustedSender(`${rendererUrl}#runs`, rendererUrl)).toBe(true);
    expect(isTrustedSender('file:///tmp/evil.html', rendererUrl)).toBe(false);
    expect(isTrustedSender('https://example.com/', rendererUrl)).toBe(false);
    expect(isTrustedSender(undefined, rendererUrl)).toBe(false);
  });

  it('answers app.info for the app page, validated by the service', async () => {
    const result = await handleInvoke(service, rendererUrl, rendererUrl, 'app.info', {});
    expect(result).toMatchObject({ ok: true, value: { host: 'electron' } });
    const invalid = await handleInvoke(service, rendererUrl, rendererUrl, 'app.info', { nope: 1 });
    expect(invalid).toMatchObject({ ok: false, error: { code: 'invalid-input' } });
  });

  it('refuses untrusted senders and non-string command names', async () => {
    expect(await handleInvoke(service, 'https://example.com/', rendererUrl, 'app.info', {})).toMatchObject({
      ok: false,
    });
    expect(await handleInvoke(service, rendererUrl, rendererUrl, 42, {})).toMatchObject({
      ok: false,
      error: { code: 'unknown-command' },
    });
  });

  it('preload repeats the shared channel names and exposes only invoke/onEvent and the native dialogs', () => {
    const preload = readFileSync(new URL('../../../src/main/electron/preload.cts', import.meta.url), 'utf8');
    expect(preload).toContain(`const IPC_INVOKE = '${IPC_INVOKE}'`);
    expect(preload).toContain(`const IPC_EVENT = '${IPC_EVENT}'`);
    expect(preload).toContain(`exposeInMainWorld('${PRELOAD_GLOBAL}'`);
    expect([...preload.matchAll(/^\s{2}(\w+): \(/gm)].map((m) => m[1])).toEqual([
      'invoke',
      'onEvent',
      'pickPath',
      'showInFolder',
    ]);
  });

  it('main window keeps the security switches on', () => {
    const main = readFileSync(new URL('../../../src/main/electron/main.ts', import.meta.url), 'utf8');
    expect(main).toMatch(/contextIsolation: true/);
    expect(main).toMatch(/sandbox: true/);
    expect(main).toMatch(/nodeIntegration: false/);
    expect(main).toMatch(/Content-Security-Policy/);
    expect(main).not.toMatch(/webSecurity: false|allowRunningInsecureContent: true/);
  });
});
