import { describe, expect, it } from 'vitest';
import type { JobProgress } from '../../../src/shared/commands/jobs.js';
import { FreezeLabError } from '../../../src/shared/result.js';
import { EventBus } from '../../../src/main/jobs/events.js';
import { BackgroundJobs } from '../../../src/main/service/background.js';
import { toServiceError } from '../../../src/main/service/service.js';

function setup() {
  const events = new EventBus();
  const seen: JobProgress[] = [];
  events.subscribe((m) => {
    if (m.event === 'job.progress') seen.push(m.payload);
  });
  return { jobs: new BackgroundJobs(events, toServiceError), seen };
}

describe('background jobs', () => {
  it('answers a running job at once, then pushes progress and its result', async () => {
    const { jobs, seen } = setup();
    const started = jobs.start('prelabel', 'three items', async ({ progress }) => {
      for (let i = 1; i <= 3; i++) progress(i, 3, `item ${i}`);
      return { written: 3 };
    });
    expect(started).toMatchObject({ jobId: 1, kind: 'prelabel', status: 'running', done: 0 });
    const end = await jobs.wait(started.jobId);
    expect(end).toMatchObject({ status: 'completed', done: 3, total: 3, message: 'item 3', result: { written: 3 } });
    expect(end.endedAt).toBeDefined();
    // The first and last states are always sent; the throttle drops some of those in between.
    expect(seen[0]?.status).toBe('running');
    expect(seen.at(-1)).toEqual(end);
  });

  it('a failure carries the typed error; a thrown non-FreezeLab error is internal', async () => {
    const { jobs } = setup();
    const a = jobs.start('prelabel', 'bad', () =>
      Promise.reject(new FreezeLabError('not-found', 'No folder x.', 'Pick one.')),
    );
    expect(await jobs.wait(a.jobId)).toMatchObject({
      status: 'failed',
      error: { code: 'not-found', message: 'No folder x.', hint: 'Pick one.' },
    });
    const b = jobs.start('predictions', 'bug', () => Promise.reject(new Error('boom')));
    expect((await jobs.wait(b.jobId)).error).toMatchObject({ code: 'internal', message: 'boom' });
  });

  it('cancel stops a job at its next check and keeps its progress', async () => {
    const { jobs } = setup();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const job = jobs.start('prelabel', 'long', async ({ signal, progress }) => {
      for (let i = 1; i <= 100; i++) {
        if (signal.aborted) return { stoppedAt: i - 1 };
        progress(i, 100);
        if (i === 2) await gate;
      }
      return { stoppedAt: 100 };
    });
    await new Promise((r) => setTimeout(r, 10));
    expect(jobs.cancel(job.jobId).status).toBe('running');
    release();
    const end = await jobs.wait(job.jobId);
    expect(end).toMatchObject({ status: 'cancelled', done: 2, result: { stoppedAt: 2 } });
    // Cancelling an ended job changes nothing.
    expect(jobs.cancel(job.jobId)).toEqual(end);
  });

  it('lists newest first, refuses unknown ids, and close cancels what runs', async () => {
    const { jobs } = setup();
    const first = jobs.start('prelabel', 'one', async () => 1);
    const second = jobs.start(
      'predictions',
      'two',
      ({ signal }) => new Promise((r) => signal.addEventListener('abort', () => r(0))),
    );
    expect(jobs.list().map((j) => j.jobId)).toEqual([second.jobId, first.jobId]);
    expect(() => jobs.get(99)).toThrow(/No job 99/);
    await jobs.close();
    expect(jobs.get(second.jobId).status).toBe('cancelled');
  });
});
