import { afterAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/main/engine/tf/backend.js';
import { resolveDataPaths } from '../../../src/main/paths.js';
import { createService } from '../../../src/main/service/service.js';
import { addClusterJob, createRun, setRunStatus } from '../../../src/main/store/index.js';
import { newRun } from '../store/fixtures.js';
import { tempDir } from '../../helpers/service.js';

describe('a run that ran on Slurm', () => {
  const service = createService({
    host: 'cli',
    runJobs: false,
    paths: resolveDataPaths({ dataDir: tempDir() }, {}),
    loadBackend: () => initBackend(),
  });
  afterAll(() => service.close());

  it('is not resumed on this machine, where nothing would ever train it', async () => {
    const db = service.context.store();
    const run = createRun(db, newRun({ name: 'on slurm' }));
    addClusterJob(db, {
      runId: run.id,
      scheduler: 'slurm',
      jobId: '12',
      arrayTask: 0,
      sweepDir: '/shared/sweep',
      shardPath: '/shared/sweep/tasks/0/freezelab.db',
      logPath: null,
      state: 'failed',
      reason: 'NonZeroExitCode',
    });
    setRunStatus(db, run.id, 'failed', { reason: 'Failed on Slurm (job 12_0).' });
    const result = await service.call('runs.resume', { id: run.id });
    expect(result).toMatchObject({ ok: false, error: { code: 'conflict' } });
    if (!result.ok) {
      expect(result.error.message).toContain('Slurm (job 12)');
      expect(result.error.hint).toContain('--slurm');
    }
    // A local run of the same status still resumes.
    const local = createRun(db, newRun({ name: 'here' }));
    setRunStatus(db, local.id, 'failed', { reason: 'x' });
    expect(await service.call('runs.resume', { id: local.id })).toMatchObject({ ok: true });
  });
});
