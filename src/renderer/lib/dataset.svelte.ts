/**
 * State of the dataset browser: the open dataset and split, the filters, the filtered images
 * (fetched page by page as the virtualised grid scrolls to them), thumbnails (fetched on demand,
 * a few at a time, kept in a bounded memory cache; the service keeps them on disk too), the
 * image opened large, and a list of recently opened datasets.
 */
import { SvelteMap } from 'svelte/reactivity';
import type { BrowseImage, BrowsePage, BrowseSplit, ImagePreview } from '../../shared/commands/dataset.js';
import type { ProblemKind } from '../../shared/report.js';
import type { ServiceError } from '../../shared/result.js';
import { client } from './client.js';

/** Images per `data.browse` request. */
export const PAGE_SIZE = 200;
/** Thumbnail long side requested (the service caches <= 256 on disk). */
export const THUMB_SIZE = 192;
/** Large view's long side. */
export const LARGE_SIZE = 1280;
/** Thumbnails kept in memory (about 10 KB each). */
const THUMB_MEMORY = 3000;
/** Thumbnail requests in flight at once. */
const THUMB_PARALLEL = 6;
const RECENT_KEY = 'freezelab.datasets.recent';
const RECENT_MAX = 8;

export interface BrowseFilters {
  cls: number | undefined;
  problem: ProblemKind | undefined;
  background: boolean;
}

export class DatasetState {
  /** The YAML path being typed. */
  yaml = $state('');
  split = $state<BrowseSplit>('train');
  cls = $state<number | undefined>();
  problem = $state<ProblemKind | undefined>();
  background = $state(false);

  /** The last answer's split-wide facts (histogram, names, problem kinds, totals). */
  info = $state.raw<Omit<BrowsePage, 'images'> | undefined>();
  loading = $state(false);
  error = $state.raw<ServiceError | undefined>();
  /** Loaded images of the filtered list by index (pages fetched as the grid reaches them). */
  readonly images = new SvelteMap<number, BrowseImage>();
  readonly thumbs = new SvelteMap<string, ImagePreview>();
  /** Index (in the filtered list) of the image opened large. */
  openIndex = $state<number | undefined>();
  large = $state.raw<ImagePreview | undefined>();
  largeError = $state.raw<ServiceError | undefined>();
  recent = $state.raw<readonly string[]>(readRecent());

  /** The YAML the shown list belongs to (what was opened, not what is being typed). */
  #openYaml = '';
  /** Bumped on every new listing: answers of older listings are dropped. */
  #generation = 0;
  // Not reactive on purpose: bookkeeping of requests, not state shown.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  #pages = new Set<number>();
  #thumbQueue: string[] = [];
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  #thumbWanted = new Set<string>();
  #thumbsInFlight = 0;

  readonly total = $derived(this.info?.total ?? 0);
  readonly opened = $derived(this.openIndex === undefined ? undefined : this.images.get(this.openIndex));

  /** Opens the typed dataset (first page, histogram), from the first image. */
  async open(refresh = false): Promise<void> {
    const yaml = this.yaml.trim();
    if (!yaml) return;
    if (yaml !== this.#openYaml) {
      this.cls = undefined;
      this.problem = undefined;
      this.background = false;
    }
    this.#openYaml = yaml;
    await this.#reload(refresh);
  }

  /** Applies changed filters or split to the open dataset. */
  async setFilters(f: Partial<BrowseFilters & { split: BrowseSplit }>): Promise<void> {
    if ('cls' in f) this.cls = f.cls;
    if ('problem' in f) this.problem = f.problem;
    if ('background' in f) this.background = f.background ?? false;
    if (f.split) this.split = f.split;
    if (this.#openYaml) await this.#reload(false);
  }

  async #reload(refresh: boolean): Promise<void> {
    const generation = ++this.#generation;
    this.images.clear();
    this.#pages.clear();
    this.openIndex = undefined;
    this.loading = true;
    this.error = undefined;
    const ok = await this.#fetchPage(0, generation, refresh);
    if (generation !== this.#generation) return;
    this.loading = false;
    if (ok) this.#remember(this.#openYaml);
  }

  /** Fetches the pages covering images [start, end) of the filtered list that are not loaded yet. */
  ensureRange(start: number, end: number): Promise<unknown> {
    const generation = this.#generation;
    const fetches: Promise<boolean>[] = [];
    for (let p = Math.floor(start / PAGE_SIZE); p * PAGE_SIZE < Math.min(end, this.total); p++) {
      if (!this.#pages.has(p)) fetches.push(this.#fetchPage(p, generation, false));
    }
    return Promise.all(fetches);
  }

  async #fetchPage(page: number, generation: number, refresh: boolean): Promise<boolean> {
    this.#pages.add(page);
    const result = await client['data.browse']({
      data: this.#openYaml,
      split: this.split,
      ...(this.cls !== undefined ? { class: this.cls } : {}),
      ...(this.problem !== undefined ? { problem: this.problem } : {}),
      background: this.background,
      offset: page * PAGE_SIZE,
      limit: PAGE_SIZE,
      refresh,
    });
    if (generation !== this.#generation) return false;
    if (!result.ok) {
      this.#pages.delete(page);
      this.error = result.error;
      if (page === 0) this.info = undefined;
      return false;
    }
    const { images, ...info } = result.value;
    this.info = info;
    // A split switch can land on a split the YAML lacks; the answer names the ones it has.
    images.forEach((im, i) => this.images.set(info.offset + i, im));
    return true;
  }

  /** Asks for an image's thumbnail (idempotent); it appears in `thumbs` when loaded. */
  wantThumb(path: string): void {
    if (this.thumbs.has(path) || this.#thumbWanted.has(path)) return;
    this.#thumbWanted.add(path);
    this.#thumbQueue.push(path);
    this.#pumpThumbs();
  }

  /** Drops queued thumbnail requests not in `keep` (scrolled past before they were fetched). */
  keepThumbs(keep: ReadonlySet<string>): void {
    this.#thumbQueue = this.#thumbQueue.filter((p) => {
      if (keep.has(p)) return true;
      this.#thumbWanted.delete(p);
      return false;
    });
  }

  #pumpThumbs(): void {
    while (this.#thumbsInFlight < THUMB_PARALLEL && this.#thumbQueue.length > 0) {
      const path = this.#thumbQueue.shift()!;
      this.#thumbsInFlight++;
      void client['data.image']({ path, maxSize: THUMB_SIZE }).then((r) => {
        this.#thumbsInFlight--;
        this.#thumbWanted.delete(path);
        if (r.ok) {
          if (this.thumbs.size >= THUMB_MEMORY) this.thumbs.delete(this.thumbs.keys().next().value!);
          this.thumbs.set(path, r.value);
        }
        this.#pumpThumbs();
      });
    }
  }

  /** Opens image `index` of the filtered list large (undefined closes). */
  async openImage(index: number | undefined): Promise<void> {
    this.openIndex = index;
    this.large = undefined;
    this.largeError = undefined;
    if (index === undefined) return;
    const im = this.images.get(index);
    if (!im) return;
    const r = await client['data.image']({ path: im.path, maxSize: LARGE_SIZE });
    if (this.openIndex !== index) return;
    if (r.ok) this.large = r.value;
    else this.largeError = r.error;
  }

  /** Steps the large view to the next or previous image (loading its page if needed). */
  async step(delta: number): Promise<void> {
    if (this.openIndex === undefined) return;
    const next = Math.max(0, Math.min(this.total - 1, this.openIndex + delta));
    if (next === this.openIndex) return;
    const generation = this.#generation;
    if (!this.images.has(next)) await this.ensureRange(next, next + 1);
    // a page already in flight (the grid asked first) lands meanwhile
    for (let i = 0; i < 50 && !this.images.has(next) && generation === this.#generation; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    if (generation === this.#generation && this.images.has(next)) await this.openImage(next);
  }

  #remember(yaml: string): void {
    this.recent = [yaml, ...this.recent.filter((y) => y !== yaml)].slice(0, RECENT_MAX);
    try {
      localStorage.setItem(RECENT_KEY, JSON.stringify(this.recent));
    } catch {
      // not remembered; the list still holds it for this session
    }
  }
}

function readRecent(): string[] {
  try {
    const v: unknown = JSON.parse(localStorage.getItem(RECENT_KEY) ?? '[]');
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string').slice(0, RECENT_MAX) : [];
  } catch {
    return [];
  }
}
