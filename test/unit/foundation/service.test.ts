import { describe, expect, it } from 'vitest';
import { commands, createClient, type Transport } from '../../../src/shared/contract.js';
import { FreezeLabError } from '../../../src/shared/result.js';
import { toServiceError } from '../../../src/main/service/service.js';
import { testService } from '../../helpers/service.js';

describe('service dispatch', () => {
  const service = testService('cli');

  it('answers app.info from the real backend loader', async () => {
    const result = await service.dispatch('app.info', {});
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const info = result.value as { backend: { name: string; attempts: { name: string; ok: boolean }[] }; host: string };
    expect(info.host).toBe('cli');
    // The backend named is the one that loaded: the last attempt, and the only successful one.
    const loaded = info.backend.attempts.filter((a) => a.ok);
    expect(loaded.map((a) => a.name)).toEqual([info.backend.name]);
    expect(info.backend.attempts.at(-1)?.name).toBe(info.backend.name);
  });

  it('refuses unknown commands with the list of known ones', async () => {
    const result = await service.dispatch('app.rm-rf', {});
    expect(result).toMatchObject({ ok: false, error: { code: 'unknown-command' } });
    if (!result.ok) expect(result.error.hint).toContain('app.info');
  });

  it('refuses names that are not own properties of the command map', async () => {
    for (const name of ['toString', '__proto__', 'constructor']) {
      expect(await service.dispatch(name, {})).toMatchObject({ ok: false, error: { code: 'unknown-command' } });
    }
  });

  it('validates input in main and reports each problem', async () => {
    const result = await service.dispatch('app.info', { extra: true });
    expect(result).toMatchObject({ ok: false, error: { code: 'invalid-input' } });
    if (!result.ok) expect(result.error.message).toContain('extra');
    expect(await service.dispatch('app.info', 'not an object')).toMatchObject({ ok: false });
  });

  it('turns thrown FreezeLabErrors into values with their hint, and others into internal errors', () => {
    expect(toServiceError(new FreezeLabError('not-found', 'No run 7.', 'List runs with freezelab runs.'))).toEqual({
      code: 'not-found',
      message: 'No run 7.',
      hint: 'List runs with freezelab runs.',
    });
    expect(toServiceError(new Error('boom'))).toMatchObject({ code: 'internal', message: 'boom' });
  });

  it('derives a client with one method per command', async () => {
    const calls: string[] = [];
    const transport: Transport = {
      invoke: async (name) => {
        calls.push(name);
        return { ok: true, value: null };
      },
      onEvent: () => () => undefined,
    };
    const client = createClient(transport);
    expect(Object.keys(client).sort()).toEqual(Object.keys(commands).sort());
    await client['app.info']({});
    expect(calls).toEqual(['app.info']);
  });
});
