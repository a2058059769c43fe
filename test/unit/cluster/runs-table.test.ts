import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatRuns } from '../../../src/main/cli/commands/runs.js';
import { addClusterJob, clusterJobs, createRun, listRuns, openStore } from '../../../src/main/store/index.js';
import { newRun, tempDir } from '../store/fixtures.js';

describe('freezelab runs with cluster runs', () => {
  const db = openStore(path.join(tempDir(), 'freezelab.db'));
  afterAll(() => db.close());

  it('adds a where column only when a run is on a cluster: here, or slurm job_task with Slurm state', () => {
    const here = createRun(db, newRun({ name: 'local run' }));
    const plain = formatRuns(listRuns(db));
    expect(plain).not.toMatch(/\bwhere\b/);
    expect(plain).toContain('local run');

    const away = createRun(db, newRun({ name: 'cluster run' }));
    addClusterJob(db, {
      runId: away.id,
      scheduler: 'slurm',
      jobId: '77',
      arrayTask: 1,
      sweepDir: '/shared/sweep',
      shardPath: '/shared/sweep/tasks/1/freezelab.db',
      logPath: null,
      state: 'pending',
      reason: 'PENDING (Resources)',
    });
    const table = formatRuns(listRuns(db), new Map(clusterJobs(db).map((j) => [j.runId, j])));
    const lines = table.split('\n');
    expect(lines[0]).toMatch(/\bwhere\b/);
    expect(lines.find((l) => l.includes('cluster run'))).toContain('slurm 77_1 PENDING (Resources)');
    expect(lines.find((l) => l.includes('local run'))).toMatch(new RegExp(`^\\s*${here.id}\\s+queued\\s+here\\b`));
  });
});
