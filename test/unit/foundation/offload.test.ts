import { describe, expect, it } from 'vitest';
import { runTask } from '../../../src/main/service/tasks/offload.js';
import { testService } from '../../helpers/service.js';
import { FreezeLabError } from '../../../src/shared/result.js';

const args = { model: 'n', imgSize: 640 } as const;

describe('file-reading commands run off the event loop, within a budget', () => {
  it('answers from the task thread as the handler did', async () => {
    const out = await runTask('model.arch', args, 'Reading n');
    expect(out.arch.totalParams).toBe(1_872_157);
    expect(out.presets.find((p) => p.id === 'backbone')?.trainableParams).toBe(825_789);
  });

  it('a task past its time budget is stopped, and the message names what and how long', async () => {
    const error = await runTask('model.arch', args, 'Reading big.pt', { timeoutMs: 5, maxHeapMb: 2048 }).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(FreezeLabError);
    expect(error).toMatchObject({
      code: 'resource',
      message: 'Reading big.pt took longer than 0.0 s and was stopped.',
    });
  });

  it('a task past its memory budget is stopped with a message, not a crash', async () => {
    // 4 MB of heap cannot even load the engine's modules: the thread runs out of memory.
    const error = await runTask('model.arch', args, 'Reading huge.pt', { timeoutMs: 60_000, maxHeapMb: 4 }).catch(
      (e) => e,
    );
    expect(error).toMatchObject({
      code: 'resource',
      message: 'Reading huge.pt needed more than 4 MB of memory and was stopped.',
    });
  });

  it("users' errors keep their code and message through the thread and the service", async () => {
    const service = testService();
    try {
      const missing = await service.dispatch('model.arch', { model: '/nope/model.pt', imgSize: 640 });
      expect(missing).toMatchObject({ ok: false, error: { code: 'not-found' } });
      if (!missing.ok) expect(missing.error.message).toContain('/nope/model.pt');
      const data = await service.dispatch('data.check', { data: '/nope/data.yaml' });
      expect(data).toMatchObject({ ok: false, error: { code: 'not-found' } });
    } finally {
      await service.close();
    }
  });
});
