/**
 * State of the pre-label view: the form (weights from a run's best checkpoint or a path, source
 * and output folders, thresholds, what to save), the job it started (followed through
 * JobsState), and previews of the annotated images once it ends.
 */
import type { PrelabelSummary } from '../../shared/commands/prelabel.js';
import type { ServiceError } from '../../shared/result.js';
import type { RunSummary } from '../../shared/runs.js';
import { client } from './client.js';
import { JobsState, jobEnded } from './jobs.svelte.js';

/** Annotated images previewed after a job. */
const PREVIEWS = 6;

export interface AnnotatedPreview {
  readonly file: string;
  readonly dataUrl: string;
}

/** Runs that have a checkpoint to label with (a validated epoch or a finished run). */
export function runsWithWeights(summaries: readonly RunSummary[]): RunSummary[] {
  return summaries.filter((s) => s.run.bestEpoch !== null || s.run.status === 'completed');
}

export class PrelabelState {
  weightsFrom = $state<'run' | 'path'>('run');
  runId = $state<number | undefined>();
  weightsPath = $state('');
  source = $state('');
  /** Empty: the service's next free detect/expN folder. */
  out = $state('');
  imgSize = $state(640);
  conf = $state(0.25);
  iou = $state(0.45);
  saveTxt = $state(true);
  saveConf = $state(false);
  saveImg = $state(true);
  force = $state(false);
  starting = $state(false);
  startError = $state.raw<ServiceError | undefined>();
  /** The job this view started (or the latest pre-label job found when the view opened). */
  jobId = $state<number | undefined>();
  previews = $state.raw<readonly AnnotatedPreview[]>([]);
  readonly jobs = new JobsState('prelabel');

  readonly job = $derived(this.jobs.get(this.jobId));
  readonly summary = $derived(
    this.job && jobEnded(this.job) ? (this.job.result as PrelabelSummary | undefined) : undefined,
  );
  readonly running = $derived(this.job !== undefined && !jobEnded(this.job));

  /** Why Start is disabled, or undefined. */
  readonly blocker = $derived.by(() => {
    if (this.weightsFrom === 'run' && this.runId === undefined) return 'Choose a run whose weights label the images.';
    if (this.weightsFrom === 'path' && !this.weightsPath.trim()) return 'Give a weights file (.pt).';
    if (!this.source.trim()) return 'Give a folder of images (or a pattern, or a .txt list).';
    if (!this.saveTxt && !this.saveImg) return 'Save labels, annotated images or both.';
    if (this.running) return 'A pre-label job is running.';
    return undefined;
  });

  #previewsFor: number | undefined;

  connect(): () => void {
    const off = this.jobs.connect();
    return off;
  }

  /** The chosen run's best checkpoint (its last when none is marked best). */
  async #weights(): Promise<string | ServiceError> {
    if (this.weightsFrom === 'path') return this.weightsPath.trim();
    const r = await client['runs.get']({ id: this.runId! });
    if (!r.ok) return r.error;
    const best = r.value.artifacts.find((a) => a.kind === 'best') ?? r.value.artifacts.find((a) => a.kind === 'last');
    if (!best) {
      return {
        code: 'not-found',
        message: `Run ${this.runId} has no checkpoint yet.`,
        hint: 'Choose a run that has finished an epoch, or give a weights file.',
      };
    }
    return best.path;
  }

  async start(): Promise<void> {
    if (this.blocker) return;
    this.starting = true;
    this.startError = undefined;
    this.previews = [];
    try {
      const weights = await this.#weights();
      if (typeof weights !== 'string') {
        this.startError = weights;
        return;
      }
      const r = await client['model.prelabel']({
        weights,
        source: this.source.trim(),
        ...(this.out.trim() ? { out: this.out.trim() } : {}),
        imgSize: this.imgSize,
        conf: this.conf,
        iou: this.iou,
        saveTxt: this.saveTxt,
        saveConf: this.saveConf,
        saveImg: this.saveImg,
        force: this.force,
      });
      if (!r.ok) {
        this.startError = r.error;
        return;
      }
      this.jobs.apply(r.value);
      this.jobId = r.value.jobId;
    } finally {
      this.starting = false;
    }
  }

  async cancel(): Promise<void> {
    if (this.jobId !== undefined) await this.jobs.cancel(this.jobId);
  }

  /** Loads previews of the job's first annotated images (once per job). */
  async loadPreviews(): Promise<void> {
    const summary = this.summary;
    const id = this.jobId;
    if (!summary || id === undefined || this.#previewsFor === id) return;
    this.#previewsFor = id;
    const out: AnnotatedPreview[] = [];
    for (const file of summary.annotated.slice(0, PREVIEWS)) {
      const r = await client['data.image']({ path: file, maxSize: 480 });
      if (r.ok) out.push({ file, dataUrl: r.value.dataUrl });
    }
    if (this.jobId === id) this.previews = out;
  }
}
