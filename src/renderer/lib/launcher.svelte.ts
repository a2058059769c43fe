/**
 * State of the run launcher: the form, the dataset validation report (checked before anything
 * starts: errors block, warnings don't), freeze-spec validation with the shared parser, and the
 * requests that queue one run or a sweep.
 */
import { SvelteSet } from 'svelte/reactivity';
import type { DatasetReport } from '../../shared/report.js';
import { FREEZE_PRESETS, formatFreezeSpec, parseFreezeSpec } from '../../shared/freeze.js';
import { DEFAULT_HYP_PRESET, HYP_PRESET_INFO } from '../../shared/hyp.js';
import type { ServiceError } from '../../shared/result.js';
import { BACKENDS, type BackendName } from '../../shared/backend.js';
import { BN_POLICIES, type BnPolicy } from '../../shared/runs.js';
import { MAX_SEEDS, type SweepRequestInput, type TrainConfigInput } from '../../shared/train-config.js';
import { client } from './client.js';

/** Built-in model sizes, plus 'weights' (the architecture stored in the weights) and 'yaml'. */
export const MODEL_CHOICES = ['n', 's', 'm', 'l', 'x'] as const;
export type ModelChoice = (typeof MODEL_CHOICES)[number] | 'weights' | 'yaml';
export const BACKEND_OPTIONS: readonly ('auto' | BackendName)[] = ['auto', ...BACKENDS];
export const HYP_OPTIONS = [...HYP_PRESET_INFO.map((h) => h.id), 'file'] as const;

const CHECK_DELAY_MS = 600;

/** Whether a canonical freeze spec freezes any module ('0' is YOLOv5's "freeze nothing"). */
export const freezesSomething = (canonical: string): boolean => canonical !== 'none' && canonical !== '0';

/** Result of validating a freeze spec as typed: the canonical text, or what is wrong. */
export function checkFreeze(text: string): { ok: true; canonical: string } | { ok: false; message: string } {
  try {
    return { ok: true, canonical: formatFreezeSpec(parseFreezeSpec(text)) };
  } catch (error) {
    return { ok: false, message: error instanceof Error ? error.message : String(error) };
  }
}

export class LauncherState {
  data = $state('');
  weights = $state('');
  /**
   * 'weights' by default, as the CLI with only --weights: the run is named after the weights file
   * in both (yolov5n.pt), and without weights the form asks for them instead of starting from
   * random initialisation unasked.
   */
  model = $state<ModelChoice>('weights');
  modelYaml = $state('');
  imgSize = $state(320);
  batch = $state(16);
  epochs = $state(3);
  /** The CLI's default too (YOLOv5's train.py default), so a run means the same from either. */
  hyp = $state<(typeof HYP_OPTIONS)[number]>(DEFAULT_HYP_PRESET);
  hypFile = $state('');
  freeze = $state('backbone');
  bnPolicy = $state<BnPolicy>('update');
  backend = $state<'auto' | BackendName>('auto');
  seed = $state(0);
  /** YOLOv5's AutoAnchor (on by default, as in YOLOv5). */
  autoanchor = $state(true);
  /** Data-parallel workers: 0 = automatic (one per core on WASM/CPU, 1 on native TensorFlow). */
  workers = $state(0);
  name = $state('');
  /** The user confirmed freezing modules of an untrained (randomly initialised) model. */
  confirmUntrained = $state(false);

  /** Sweep: the freeze specs to run (presets and the custom text), and whether to try both BN policies. */
  readonly sweepFreezes = new SvelteSet<string>(FREEZE_PRESETS.map((p) => p.id));
  sweepCustom = $state(false);
  sweepBothBn = $state(false);
  /** Runs of each sweep configuration, with seeds seed, seed+1, ... (the sweep's `seeds`). */
  sweepRepeats = $state(1);

  report = $state.raw<DatasetReport | undefined>();
  /** The dataset path the report is for (a report of another path does not count). */
  reportFor = $state('');
  checkError = $state.raw<ServiceError | undefined>();
  checking = $state(false);
  submitError = $state.raw<ServiceError | undefined>();
  submitting = $state(false);
  /** What the last start/sweep queued, for the confirmation line. */
  lastQueued = $state.raw<{ runIds: readonly number[]; sweepId?: number } | undefined>();

  #checkTimer: ReturnType<typeof setTimeout> | undefined;
  #checkSeq = 0;

  readonly freezeCheck = $derived(checkFreeze(this.freeze));
  /**
   * Frozen modules without weights stay random: rarely meant, so it needs a confirmation (for the
   * single run's spec or any spec of the sweep).
   */
  readonly freezesUntrained = $derived.by(
    () =>
      // 'From the weights file' without weights asks for the weights instead (see blocker).
      this.model !== 'weights' &&
      !this.weights.trim() &&
      ((this.freezeCheck.ok && freezesSomething(this.freezeCheck.canonical)) || this.sweepSpecs.some(freezesSomething)),
  );
  readonly reportCurrent = $derived(this.report !== undefined && this.reportFor === this.data.trim());
  readonly dataReady = $derived(this.reportCurrent && (this.report?.errors ?? 1) === 0);

  /** Why the form cannot be submitted yet, or undefined when it can. */
  readonly blocker = $derived.by((): string | undefined => {
    if (!this.data.trim()) return 'Give the dataset YAML.';
    if (this.checking) return 'Checking the dataset…';
    if (!this.reportCurrent) return 'Check the dataset first.';
    if ((this.report?.errors ?? 0) > 0) return 'Fix the dataset errors listed above first.';
    if (this.model === 'weights' && !this.weights.trim()) {
      return 'Give a weights file (.pt or .safetensors), or pick a model size to train from random initialisation.';
    }
    if (this.model === 'yaml' && !this.modelYaml.trim()) return 'Give the model YAML path.';
    if (this.hyp === 'file' && !this.hypFile.trim()) return 'Give the hyper-parameter YAML path.';
    if (!Number.isInteger(this.imgSize) || this.imgSize < 32 || this.imgSize % 32 !== 0) {
      return 'Image size must be a multiple of 32.';
    }
    if (this.freezesUntrained && !this.confirmUntrained) {
      return 'No weights: confirm freezing untrained modules, give weights, or freeze none.';
    }
    return undefined;
  });

  readonly sweepSpecs = $derived.by((): string[] => {
    const specs = FREEZE_PRESETS.map((p) => p.id).filter((id) => this.sweepFreezes.has(id)) as string[];
    if (this.sweepCustom && this.freezeCheck.ok && !specs.includes(this.freezeCheck.canonical)) {
      specs.push(this.freezeCheck.canonical);
    }
    return specs;
  });

  /** Runs a sweep would queue. */
  readonly repeatsValid = $derived(
    Number.isInteger(this.sweepRepeats) && this.sweepRepeats >= 1 && this.sweepRepeats <= MAX_SEEDS,
  );
  readonly sweepCount = $derived(
    this.sweepSpecs.length * (this.sweepBothBn ? 2 : 1) * (this.repeatsValid ? this.sweepRepeats : 1),
  );

  /** Re-checks the dataset shortly after the path stops changing. */
  dataChanged(): void {
    clearTimeout(this.#checkTimer);
    if (!this.data.trim()) return;
    this.#checkTimer = setTimeout(() => void this.checkData(), CHECK_DELAY_MS);
  }

  async checkData(): Promise<void> {
    clearTimeout(this.#checkTimer);
    const path = this.data.trim();
    if (!path) return;
    const seq = ++this.#checkSeq;
    this.checking = true;
    this.checkError = undefined;
    const result = await client['data.check']({ data: path });
    if (seq !== this.#checkSeq) return; // a newer check replaced this one
    this.checking = false;
    this.reportFor = path;
    if (result.ok) this.report = result.value;
    else {
      this.report = undefined;
      this.checkError = result.error;
    }
  }

  /** Fields every run of this form shares. */
  #common(): Omit<TrainConfigInput, 'freeze'> {
    const model =
      this.model === 'weights' ? undefined : this.model === 'yaml' ? this.modelYaml.trim() : (this.model as string);
    return {
      data: this.data.trim(),
      ...(this.weights.trim() ? { weights: this.weights.trim() } : {}),
      ...(model ? { model } : {}),
      imgSize: this.imgSize,
      batch: this.batch,
      epochs: this.epochs,
      hyp: this.hyp === 'file' ? this.hypFile.trim() : this.hyp,
      bnFrozen: this.bnPolicy,
      ...(this.backend !== 'auto' ? { backend: this.backend } : {}),
      seed: this.seed,
      autoanchor: this.autoanchor,
      ...(this.workers > 0 ? { workers: this.workers } : {}),
      ...(this.name.trim() ? { name: this.name.trim() } : {}),
    };
  }

  async start(): Promise<boolean> {
    if (this.blocker || !this.freezeCheck.ok) return false;
    return this.#submit(async () => {
      const result = await client['runs.start']({ ...this.#common(), freeze: this.freezeCheck.ok ? this.freeze : '' });
      return result.ok ? { ok: true, value: { runIds: [result.value.runId] } } : result;
    });
  }

  async sweep(): Promise<boolean> {
    if (this.blocker || this.sweepSpecs.length === 0 || !this.repeatsValid) return false;
    const request: SweepRequestInput = {
      ...this.#common(),
      freezes: this.sweepSpecs,
      ...(this.sweepBothBn ? { bnPolicies: [...BN_POLICIES] } : {}),
      ...(this.sweepRepeats > 1 ? { seeds: this.sweepRepeats } : {}),
    };
    return this.#submit(async () => {
      const result = await client['sweeps.start'](request);
      return result.ok ? { ok: true, value: { runIds: result.value.runIds, sweepId: result.value.sweepId } } : result;
    });
  }

  async #submit(
    call: () => Promise<
      { ok: true; value: { runIds: readonly number[]; sweepId?: number } } | { ok: false; error: ServiceError }
    >,
  ): Promise<boolean> {
    this.submitting = true;
    this.submitError = undefined;
    const result = await call();
    this.submitting = false;
    if (!result.ok) {
      this.submitError = result.error;
      return false;
    }
    this.lastQueued = result.value;
    return true;
  }
}
