/**
 * State of the architecture explorer: the loaded model description and the freeze choice being
 * edited. Trainable counts and the memory estimate are derived here, live, without a round trip.
 */
import type { ModelArchInfo } from '../../shared/contract.js';
import type { FreezePreset } from '../../shared/freeze.js';
import { estimateTrainingMemory, type MemoryEstimate } from '../../shared/memory-estimate.js';
import type { ServiceError } from '../../shared/result.js';
import { client } from './client.js';

export interface ModelRequest {
  model: string;
  nc?: number | undefined;
  imgSize: number;
}

export class ExplorerState {
  info = $state.raw<ModelArchInfo | undefined>();
  error = $state.raw<ServiceError | undefined>();
  loading = $state(false);
  /** Frozen module indices (sorted). */
  frozen = $state.raw<readonly number[]>([]);
  batch = $state(16);
  trainImgSize = $state(320);

  /** A snapshot for lookups; replaced, never mutated, when `frozen` changes. */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  readonly frozenSet: ReadonlySet<number> = $derived(new Set(this.frozen));

  /** The preset that matches the current choice exactly, if any. */
  readonly preset = $derived.by((): FreezePreset | undefined => {
    const key = this.frozen.join(',');
    return this.info?.presets.find((p) => p.frozenModules.join(',') === key)?.id;
  });

  /** YOLOv5's "freeze N" that matches the current choice (modules 0..N-1), if any. */
  readonly depth = $derived.by((): number | undefined => {
    const f = this.frozen;
    return f.every((v, i) => v === i) ? f.length : undefined;
  });

  readonly trainableParams = $derived(
    this.info?.arch.modules.reduce((a, m) => a + (this.frozenSet.has(m.index) ? 0 : m.params), 0) ?? 0,
  );

  readonly memory = $derived.by((): MemoryEstimate | undefined =>
    this.info
      ? estimateTrainingMemory(this.info.arch, this.frozen, { batch: this.batch, imgSize: this.trainImgSize })
      : undefined,
  );

  /** Baseline (nothing frozen) estimate, for the relative saving. */
  readonly memoryUnfrozen = $derived.by((): MemoryEstimate | undefined =>
    this.info
      ? estimateTrainingMemory(this.info.arch, [], { batch: this.batch, imgSize: this.trainImgSize })
      : undefined,
  );

  async load(request: ModelRequest): Promise<void> {
    this.loading = true;
    this.error = undefined;
    const result = await client['model.arch']({
      model: request.model,
      imgSize: request.imgSize,
      ...(request.nc ? { nc: request.nc } : {}),
    });
    this.loading = false;
    if (!result.ok) {
      this.error = result.error;
      return;
    }
    const keep = this.info ? this.frozen.filter((i) => i < result.value.arch.modules.length) : [];
    this.info = result.value;
    this.frozen = keep;
  }

  applyPreset(id: FreezePreset): void {
    const preset = this.info?.presets.find((p) => p.id === id);
    if (preset) this.frozen = [...preset.frozenModules];
  }

  setDepth(n: number): void {
    this.frozen = Array.from({ length: n }, (_, i) => i);
  }

  toggle(index: number): void {
    this.frozen = this.frozen.includes(index)
      ? this.frozen.filter((i) => i !== index)
      : [...this.frozen, index].sort((a, b) => a - b);
  }
}
