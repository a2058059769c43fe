/**
 * Follows queued runs in this process until they end, printing YOLOv5-like progress: a live line
 * on stderr while an epoch trains, one line per finished epoch on stdout. Ctrl+C cancels the
 * runs at the next batch boundary (a second Ctrl+C stops at once; the run stays resumable).
 */
import type { JobProgress } from '../../shared/commands/jobs.js';
import type { RunProgress } from '../../shared/contract.js';
import { isFinished, type RunStatus } from '../../shared/runs.js';
import type { Service } from '../service/service.js';
import type { CliIO } from './cli.js';

const fmt = (v: number | null | undefined, digits = 3): string =>
  v === null || v === undefined ? '-' : v.toFixed(digits);

function progressLine(p: RunProgress): string {
  const head = `run ${p.runId} epoch ${p.epoch + 1}/${p.epochs}`;
  if (p.phase === 'setup') return `${head}: ${p.message ?? 'setting up'}`;
  if (p.phase === 'save') return `${head}: saving checkpoints`;
  const eta = p.etaSeconds !== undefined ? ` ETA ${Math.round(p.etaSeconds)}s` : '';
  if (p.phase === 'val') return `${head} validating ${p.batch + 1}/${p.batches}${eta}`;
  const l = p.losses;
  const losses = l ? ` box ${fmt(l.box, 4)} obj ${fmt(l.obj, 4)} cls ${fmt(l.cls, 4)}` : '';
  const speed = p.imagesPerSecond !== undefined ? ` ${p.imagesPerSecond.toFixed(1)} img/s` : '';
  return `${head} batch ${p.batch + 1}/${p.batches}${losses}${speed}${eta}`;
}

export async function followRuns(
  service: Service,
  runIds: readonly number[],
  io: CliIO,
  json: boolean,
): Promise<Map<number, RunStatus>> {
  const pending = new Set(runIds);
  const final = new Map<number, RunStatus>();
  const interactive = process.stderr.isTTY === true;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (done = resolve));
  // Epoch totals from the progress events, so finished-epoch lines read 'epoch 2/3' like the live line.
  const totals = new Map<number, number>();
  const of = (total: number | undefined): string => (total === undefined ? '' : `/${total}`);
  const unsubscribe = service.events.subscribe((m) => {
    if (m.event === 'run.progress') totals.set(m.payload.runId, m.payload.epochs);
    if (m.event === 'run.progress' && pending.has(m.payload.runId) && !json) {
      const line = progressLine(m.payload);
      io.err(
        interactive
          ? `\r\x1b[2K${line}`
          : m.payload.phase === 'train' && m.payload.batch + 1 < m.payload.batches
            ? ''
            : `${line}\n`,
      );
    } else if (m.event === 'run.epoch' && pending.has(m.payload.runId) && !json) {
      const e = m.payload.epoch;
      if (interactive) io.err('\r\x1b[2K');
      io.out(
        `run ${m.payload.runId} epoch ${e.epoch + 1}${of(totals.get(m.payload.runId))}: loss box ${fmt(e.boxLoss, 4)} obj ${fmt(e.objLoss, 4)} cls ${fmt(e.clsLoss, 4)}` +
          `  P ${fmt(e.precision)} R ${fmt(e.recall)} mAP50 ${fmt(e.map50)} mAP50-95 ${fmt(e.map50_95)}  ${e.seconds.toFixed(1)}s\n`,
      );
    } else if (m.event === 'app.notice' && m.payload.level === 'warning' && !json) {
      // Warnings the runs recorded (AutoAnchor replaced the anchors, micro-batches, ...).
      io.err(`${interactive ? '\r\x1b[2K' : ''}${m.payload.level}: ${m.payload.message}\n`);
    } else if (m.event === 'run.status' && pending.has(m.payload.runId)) {
      const { runId, status, reason } = m.payload;
      if (isFinished(status) || status === 'interrupted') {
        pending.delete(runId);
        final.set(runId, status);
        if (!json) io.err(`${interactive ? '\r\x1b[2K' : ''}run ${runId} ${status}${reason ? `: ${reason}` : ''}\n`);
        if (pending.size === 0) done();
      }
    }
  });
  let interrupts = 0;
  const onSigint = () => {
    interrupts += 1;
    if (interrupts === 1) {
      io.err('\nCancelling at the next batch (Ctrl+C again to stop now and keep the run resumable)...\n');
      for (const id of pending) void service.dispatch('runs.cancel', { id });
    } else {
      void service.close();
    }
  };
  process.on('SIGINT', onSigint);
  try {
    // Runs that already ended before we subscribed (e.g. refused at once).
    for (const id of runIds) {
      const r = await service.dispatch('runs.get', { id });
      if (r.ok) {
        const status = (r.value as { run: { status: RunStatus } }).run.status;
        if (isFinished(status)) {
          pending.delete(id);
          final.set(id, status);
        }
      }
    }
    if (pending.size > 0) await finished;
    return final;
  } finally {
    process.off('SIGINT', onSigint);
    unsubscribe();
  }
}

/** Exit code for a set of final statuses: 0 all completed, 130 any cancelled, else 1. */
export function exitCodeFor(statuses: Iterable<RunStatus>): number {
  const all = [...statuses];
  if (all.every((s) => s === 'completed')) return 0;
  if (all.some((s) => s === 'cancelled' || s === 'interrupted')) return 130;
  return 1;
}

/**
 * Follows one background job of this process's service (pre-labelling, predictions) until it
 * ends: a live `[done/total] detail` line on stderr (none with `quiet`), Ctrl+C cancels it (what
 * it wrote stays). Answers its final state.
 */
export async function followJob(
  service: Service,
  jobId: number,
  io: CliIO,
  opts: { readonly quiet: boolean; readonly detail?: (p: JobProgress) => string; readonly onCancel?: string },
): Promise<JobProgress> {
  const interactive = process.stderr.isTTY === true;
  const unsubscribe = service.events.subscribe((m) => {
    if (opts.quiet || m.event !== 'job.progress' || m.payload.jobId !== jobId || m.payload.status !== 'running') return;
    const p = m.payload;
    if (p.total === 0 || p.done === 0) return;
    const line = `[${p.done}/${p.total}] ${opts.detail ? opts.detail(p) : (p.message ?? '')}`;
    io.err(interactive ? `\r\x1b[2K${line}` : `${line}\n`);
  });
  const onSigint = () => {
    if (opts.onCancel) io.err(`\n${opts.onCancel}\n`);
    void service.dispatch('jobs.cancel', { id: jobId });
  };
  process.on('SIGINT', onSigint);
  try {
    return await service.context.jobs.wait(jobId);
  } finally {
    process.off('SIGINT', onSigint);
    unsubscribe();
    if (interactive && !opts.quiet) io.err('\r\x1b[2K');
  }
}
