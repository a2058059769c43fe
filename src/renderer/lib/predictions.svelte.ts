/**
 * State of the predictions section: what to predict with (a completed run, or weights and a data
 * YAML), the running job (followed through `job.progress` events), its result (images
 * disagreements first), the image opened large and its preview, and the CSV export.
 */
import type { JobProgress } from '../../shared/commands/jobs.js';
import {
  predictionsCsv,
  type PredictionImage,
  type PredictionsResult,
  type PredictionsStartInput,
} from '../../shared/commands/predictions.js';
import type { ImagePreview } from '../../shared/commands/dataset.js';
import type { EventMessage } from '../../shared/contract.js';
import type { ServiceError } from '../../shared/result.js';
import { client, transport } from './client.js';

/** Large view's long side. */
export const LARGE_SIZE = 1280;

export type PredictionSource = 'run' | 'weights';

export class PredictionsState {
  source = $state<PredictionSource>('run');
  runId = $state<number | undefined>();
  weights = $state('');
  data = $state('');
  /** Image size for weights (a run uses its own); empty: 640. */
  imgSize = $state<number | undefined>();
  split = $state<'val' | 'train' | 'test'>('val');
  /** Display confidence and the confidence an unlabelled prediction needs, as typed. */
  conf = $state(0.25);
  confident = $state(0.5);
  /** Only images with disagreements in the list. */
  onlyDisagreements = $state(false);

  job = $state.raw<JobProgress | undefined>();
  result = $state.raw<PredictionsResult | undefined>();
  error = $state.raw<ServiceError | undefined>();
  starting = $state(false);
  /** Index in `result.images` of the image opened large. */
  openIndex = $state<number | undefined>();
  large = $state.raw<ImagePreview | undefined>();
  largeError = $state.raw<ServiceError | undefined>();

  readonly shown: readonly PredictionImage[] = $derived(
    (this.result?.images ?? []).filter((im) => !this.onlyDisagreements || im.disagreements.length > 0),
  );
  readonly running = $derived(this.job?.status === 'running');
  readonly open: PredictionImage | undefined = $derived(
    this.openIndex === undefined ? undefined : this.result?.images[this.openIndex],
  );

  #largeFor: string | undefined;

  /** Follows job events; returns the unsubscribe. */
  connect(): () => void {
    return transport.onEvent((m) => this.#onEvent(m));
  }

  #onEvent(message: EventMessage): void {
    if (message.event !== 'job.progress') return;
    const p = message.payload;
    if (p.kind !== 'predictions' || p.jobId !== this.job?.jobId) return;
    this.job = p;
    if (p.status === 'completed') void this.#fetchResult(p.jobId);
    else if (p.status === 'failed' && p.error) this.error = p.error as ServiceError;
  }

  async #fetchResult(id: number): Promise<void> {
    const r = await client['predictions.result']({ id });
    if (this.job?.jobId !== id) return;
    if (r.ok) {
      this.result = r.value;
      this.openIndex = undefined;
    } else this.error = r.error;
  }

  async start(): Promise<void> {
    this.error = undefined;
    this.starting = true;
    const input: PredictionsStartInput =
      this.source === 'run'
        ? { runId: this.runId, split: this.split, conf: this.conf, confident: this.confident }
        : {
            weights: this.weights,
            data: this.data,
            ...(this.imgSize ? { imgSize: this.imgSize } : {}),
            split: this.split,
            conf: this.conf,
            confident: this.confident,
          };
    try {
      const r = await client['predictions.start'](input);
      if (!r.ok) {
        this.error = r.error;
        return;
      }
      this.job = r.value;
      // The job may have ended before its first event reached us.
      const now = await client['jobs.get']({ id: r.value.jobId });
      if (now.ok && now.value.status !== 'running') this.#onEvent({ event: 'job.progress', payload: now.value });
    } finally {
      this.starting = false;
    }
  }

  async cancel(): Promise<void> {
    if (this.job) await client['jobs.cancel']({ id: this.job.jobId });
  }

  /** Opens image `index` of `result.images` large and loads its preview. */
  async openImage(index: number | undefined): Promise<void> {
    this.openIndex = index;
    const im = index === undefined ? undefined : this.result?.images[index];
    if (!im) return;
    if (this.#largeFor === im.path && this.large) return;
    this.large = undefined;
    this.largeError = undefined;
    this.#largeFor = im.path;
    const r = await client['data.image']({ path: im.path, maxSize: LARGE_SIZE });
    if (this.#largeFor !== im.path) return;
    if (r.ok) this.large = r.value;
    else this.largeError = r.error;
  }

  /** Moves the large view to the previous or next image of the shown list. */
  step(delta: number): void {
    const open = this.open;
    if (!open) return;
    const at = this.shown.indexOf(open);
    const next = this.shown[at + delta];
    if (next && this.result) void this.openImage(this.result.images.indexOf(next));
  }

  csv(): string | undefined {
    return this.result ? predictionsCsv(this.result) : undefined;
  }
}
