/**
 * Background jobs of the service: work that is not a training run but takes long enough to want
 * progress and a cancel button (pre-labelling a folder, predictions against labels). Training runs
 * have their own, persistent queue (`runs.*`); these jobs live as long as the service does.
 */
import { z } from 'zod';
import { command, noInput } from '../command.js';

export const JOB_STATUSES = ['running', 'completed', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const JOB_KINDS = ['prelabel', 'predictions'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

/** A job's state, as `jobs.list`/`jobs.get` answer it and the `job.progress` event pushes it. */
export interface JobProgress {
  readonly jobId: number;
  readonly kind: JobKind;
  /** One line for lists, e.g. "Pre-labelling 240 images in ~/new-batch". */
  readonly title: string;
  readonly status: JobStatus;
  /** Items done (images) of `total`; total is 0 until known. */
  readonly done: number;
  readonly total: number;
  /** Latest line of detail (the image being processed, a skipped file). */
  readonly message?: string;
  /** When it failed: the error, as a service error's message and hint. */
  readonly error?: { readonly code: string; readonly message: string; readonly hint?: string };
  /** When it completed: its kind's result (see the kind's command). */
  readonly result?: unknown;
  readonly startedAt: string;
  readonly endedAt?: string;
}

export const jobIdSchema = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

export const jobCommands = {
  /** The service's background jobs, newest first (running and finished, since the service started). */
  'jobs.list': command<readonly JobProgress[]>()(noInput),
  'jobs.get': command<JobProgress>()(z.object({ id: jobIdSchema }).strict()),
  /** Cancel a running job at its next item; what it wrote so far stays. */
  'jobs.cancel': command<JobProgress>()(z.object({ id: jobIdSchema }).strict()),
} as const;
