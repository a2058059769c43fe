/** `predictions.start` / `predictions.result` through the service, and `freezelab predictions`. */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/main/cli/cli.js';
import { cliCommands } from '../../../src/main/cli/commands/index.js';
import type { JobProgress } from '../../../src/shared/commands/jobs.js';
import {
  PREDICTIONS_CSV_COLUMNS,
  predictionsCsv,
  type PredictionsResult,
} from '../../../src/shared/commands/predictions.js';
import type { Service } from '../../../src/main/service/service.js';
import { demoRunService, seedDemoRun, type DemoRunFolder } from './fixtures.js';

describe('predictions of a run (demo base weights on the demo domain B val split)', () => {
  let folder: DemoRunFolder;
  let service: Service;
  let result: PredictionsResult;
  const events: JobProgress[] = [];
  beforeAll(async () => {
    folder = await seedDemoRun();
    service = demoRunService(folder);
    service.events.subscribe((m) => {
      if (m.event === 'job.progress') events.push(m.payload);
    });
  }, 120_000);
  afterAll(() => service.close());

  it('runs as a job over the run best checkpoint, dataset and image size, disagreements first', async () => {
    const started = await service.call('predictions.start', { runId: folder.runId, workers: 1 });
    if (!started.ok) throw new Error(started.error.message);
    expect(started.value).toMatchObject({ kind: 'predictions', status: 'running' });
    const final = await service.context.jobs.wait(started.value.jobId);
    expect(final.status, final.error?.message).toBe('completed');
    const fetched = await service.call('predictions.result', { id: started.value.jobId });
    if (!fetched.ok) throw new Error(fetched.error.message);
    result = fetched.value;
    expect(result).toMatchObject({ runId: folder.runId, weights: 'best.safetensors', imgSize: 128, split: 'val' });
    expect(result.names).toEqual(['circle', 'square', 'triangle']);
    expect(result.images).toHaveLength(64);
    const scores = result.images.map((i) => i.score);
    for (let i = 1; i < scores.length; i++) expect(scores[i]).toBeLessThanOrEqual(scores[i - 1]!);
    expect(result.images[0]!.disagreements.length).toBeGreaterThan(0);
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (const im of result.images) {
      expect(im.tp + im.fn).toBe(im.labels.length);
      expect(im.tp + im.fp).toBe(im.predictions.length);
      expect(im.predictions.every((p) => p.conf >= 0.25)).toBe(true);
      expect(im.score > 0).toBe(im.disagreements.length > 0);
      tp += im.tp;
      fp += im.fp;
      fn += im.fn;
    }
    expect(result.totals).toMatchObject({ tp, fp, fn });
    expect(tp).toBeGreaterThan(0);
    console.log(`demo run predictions: ${JSON.stringify(result.totals)} in ${result.seconds.toFixed(1)} s`);
    const mine = events.filter((e) => e.jobId === started.value.jobId);
    expect(mine.at(-1)).toMatchObject({ status: 'completed', done: 64, total: 64 });
  }, 180_000);

  it('refuses a run without a checkpoint, a missing dataset and a job of another id, with reasons', async () => {
    const noCkpt = await service.call('predictions.start', { runId: folder.emptyRunId });
    expect(noCkpt).toMatchObject({
      ok: false,
      error: { code: 'not-found', message: expect.stringMatching(/no checkpoint/) },
    });
    const noData = await service.call('predictions.start', { weights: folder.weights, data: '/nope/data.yaml' });
    expect(noData).toMatchObject({ ok: false, error: { code: 'not-found' } });
    const neither = await service.call('predictions.start', { weights: folder.weights });
    expect(neither).toMatchObject({ ok: false, error: { code: 'invalid-input' } });
    const noJob = await service.call('predictions.result', { id: 9999 });
    expect(noJob).toMatchObject({ ok: false, error: { code: 'not-found' } });
  });

  it('a cancelled job ends as cancelled, with no result', async () => {
    const started = await service.call('predictions.start', {
      weights: folder.weights,
      data: folder.dataYaml,
      imgSize: 128,
      workers: 1,
    });
    if (!started.ok) throw new Error(started.error.message);
    const cancelled = await service.call('jobs.cancel', { id: started.value.jobId });
    expect(cancelled.ok).toBe(true);
    const final = await service.context.jobs.wait(started.value.jobId);
    expect(final.status).toBe('cancelled');
    expect(final.result).toBeUndefined();
    const r = await service.call('predictions.result', { id: started.value.jobId });
    expect(r).toMatchObject({ ok: false, error: { code: 'conflict', message: expect.stringMatching(/cancelled/) } });
  }, 60_000);

  it('the CLI prints the same list and writes the CSV, never over an existing file without --force', async () => {
    const csv = path.join(folder.dataDir, 'disagreements.csv');
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (t: string) => out.push(t), err: (t: string) => err.push(t), env: {} };
    const argv = ['predictions', String(folder.runId), '--home', folder.dataDir, '--workers', '1', '--csv', csv];
    expect(await runCli(argv, cliCommands, io), err.join('')).toBe(0);
    const text = out.join('');
    const t = result.totals;
    expect(text).toContain(`TP ${t.tp}, FP ${t.fp}, FN ${t.fn} at IoU 0.5`);
    const written = readFileSync(csv, 'utf8');
    expect(written).toBe(predictionsCsv(result));
    expect(written.split('\n')[0]).toBe(PREDICTIONS_CSV_COLUMNS.join(','));
    expect(written.split('\n')[1]!.startsWith(result.images[0]!.path)).toBe(true);
    // The first listed image is the first with disagreements.
    expect(text).toContain(result.images[0]!.path);

    writeFileSync(csv, 'mine\n');
    err.length = 0;
    expect(await runCli(argv, cliCommands, io)).toBe(1);
    expect(err.join('')).toMatch(/already exists.*--force/s);
    expect(readFileSync(csv, 'utf8')).toBe('mine\n');
    expect(await runCli([...argv, '--force'], cliCommands, io)).toBe(0);
    expect(readFileSync(csv, 'utf8')).toBe(predictionsCsv(result));
  }, 180_000);
});
