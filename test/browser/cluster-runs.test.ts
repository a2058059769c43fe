/** The runs list's Where column: runs trained here and runs on Slurm with their array task and state. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { addClusterJob, createRun, setClusterState } from '../../src/main/store/index.js';
import path from 'node:path';
import { screenshotDir, watchPage } from '../helpers/browser.js';
import { describeBrowser, serveApp, type ServedApp } from '../helpers/served-app.js';
import type { NewRun } from '../../src/shared/runs.js';

const run = (name: string): NewRun => ({
  name,
  config: {},
  datasetPath: '/data/coco128.yaml',
  model: 'yolov5n',
  imgSize: 64,
  batch: 2,
  epochs: 1,
  freezeSpec: 'none',
  bnPolicy: 'update',
});

describeBrowser('cluster runs in the runs list', () => {
  let app: ServedApp;
  beforeAll(async () => {
    app = await serveApp();
    const db = app.service.context.store();
    // A run here that is not queued any more, and two Slurm tasks: one pending, one failed.
    db.prepare("UPDATE runs SET status = 'failed' WHERE id = ?").run(createRun(db, run('trained here')).id);
    for (const [task, name] of ['pending on slurm', 'failed on slurm'].entries()) {
      const r = createRun(db, run(name));
      addClusterJob(db, {
        runId: r.id,
        scheduler: 'slurm',
        jobId: '4242',
        arrayTask: task,
        sweepDir: '/shared/sweeps/presets',
        shardPath: `/shared/sweeps/presets/tasks/${task}/freezelab.db`,
        logPath: null,
        state: 'pending',
        reason: null,
      });
      setClusterState(
        db,
        r.id,
        task === 0
          ? {
              state: 'pending',
              reason: 'PENDING (Resources)',
              exitCode: null,
              status: 'queued',
              statusReason: 'Queued on Slurm (job 4242_0): Resources.',
            }
          : {
              state: 'failed',
              reason: 'FAILED (NonZeroExitCode), exit code 1:0',
              exitCode: '1:0',
              status: 'failed',
              statusReason:
                'Failed on Slurm (job 4242_1). FreezeLab: Dataset YAML not found: /d.yaml. Slurm: FAILED (NonZeroExitCode), exit code 1:0.',
            },
      );
    }
  });
  afterAll(async () => {
    await app?.close();
    await app?.service.close?.();
  });

  it('shows where each run trains, with Slurm job_task and state', async () => {
    const page = await app.browser.newPage();
    const { errors } = watchPage(page);
    await page.goto(app.host.url);
    await page.locator('#tab-runs').click();
    await expect.poll(() => page.getByTestId('run-row').count()).toBe(3);
    const where = async (name: string) =>
      (await page.getByTestId('run-row').filter({ hasText: name }).getByTestId('run-where').textContent())?.trim();
    await expect.poll(() => where('pending on slurm')).toBe('Slurm 4242_0 · pending');
    expect(await where('failed on slurm')).toBe('Slurm 4242_1');
    expect(await where('trained here')).toBe('here');
    // Resuming is for runs trained here: a Slurm run is submitted again instead.
    const resume = (name: string) => page.getByTestId('run-row').filter({ hasText: name }).getByTestId('run-resume');
    expect(await resume('trained here').count()).toBe(1);
    expect(await resume('failed on slurm').count()).toBe(0);
    await page.setViewportSize({ width: 1400, height: 800 });
    await page.getByTestId('runs-table').screenshot({ path: path.join(screenshotDir, 'runs-where.png') });
    expect(errors).toEqual([]);
  });
});
