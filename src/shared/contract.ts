/**
 * The one contract between the service (main side) and its clients (Electron renderer, browser
 * renderer through the web host, CLI). Commands are request -> response; events are pushed.
 *
 * Each command names a zod schema for its input (validated on the main side, whatever the host)
 * and, as a phantom type, its output. The main side implements `Handlers`, so a missing handler
 * fails `tsc`; the renderer's client is `Client`, derived from the same map.
 */
import { z } from 'zod';
import type { ArchDescription } from './arch.js';
import type { ComparisonRow } from './runs.js';
import { DEFAULT_RECOMMEND_OPTIONS, type GroupedComparison } from './compare.js';
import type { DatasetReport } from './report.js';
import type { FreezePreset } from './freeze.js';
import type { Result } from './result.js';
import type { ClassMetrics, EvalResult, ValidationFigures } from './metrics.js';
import { backendSchema } from './backend.js';
import type { ResourceSample, RunDetail, RunStatus, RunSummary, EpochRecord } from './runs.js';
import {
  freezeTextSchema,
  imgSizeSchema,
  MAX_WORKERS,
  modelSpecSchema,
  ncSchema,
  pathSchema,
  runIdSchema,
  sweepRequestSchema,
  trainConfigSchema,
} from './train-config.js';
import { command, noInput } from './command.js';
import { jobCommands, type JobProgress } from './commands/jobs.js';
import { datasetCommands } from './commands/dataset.js';
import { predictionCommands } from './commands/predictions.js';
import { prelabelCommands } from './commands/prelabel.js';
import { modelExportCommands } from './commands/model-export.js';
import { fileCommands } from './commands/files.js';
import { clusterCommands } from './commands/cluster.js';

// ---- Outputs -------------------------------------------------------------------------------

export interface BackendAttempt {
  readonly name: string;
  readonly ok: boolean;
  /** Why it did not load (absent when it loaded). */
  readonly reason?: string;
}

/** What the loaded backend computes on (tfjs-node-gpu falls back to the CPU without CUDA). */
export interface BackendDevice {
  readonly kind: 'gpu' | 'cpu';
  /** One line, e.g. "GPU in use: NVIDIA RTX A4000" or "CPU (8 cores; CUDA libraries not found: libcudnn.so.8)". */
  readonly detail: string;
}

export interface AppInfo {
  readonly name: string;
  readonly version: string;
  /** The TensorFlow.js backend that actually loaded, every backend tried before it, and its device. */
  readonly backend: {
    readonly name: string;
    readonly attempts: readonly BackendAttempt[];
    readonly device: BackendDevice;
  };
  readonly tfjsVersion: string;
  readonly databasePath: string;
  readonly dataDir: string;
  readonly host: 'electron' | 'web' | 'cli';
  readonly platform: string;
  readonly node: string;
}

export interface FreezePresetInfo {
  readonly id: FreezePreset;
  readonly label: string;
  readonly description: string;
  readonly frozenModules: readonly number[];
  readonly trainableParams: number;
}

export interface ModelArchInfo {
  /** Where the model came from: a built-in size, a model YAML, or a weights file. */
  readonly source: { readonly kind: 'builtin' | 'yaml' | 'weights'; readonly label: string; readonly file?: string };
  readonly arch: ArchDescription;
  /** The presets resolved against this model's graph. */
  readonly presets: readonly FreezePresetInfo[];
  readonly names: readonly string[];
}

export interface ComparisonResult extends GroupedComparison {
  readonly rows: readonly ComparisonRow[];
  /** Run ids of the groups on each set's accuracy vs mean peak memory frontier (never across sets). */
  readonly memoryFrontier: readonly number[];
  /** Run ids of the groups on each set's accuracy vs mean seconds-per-epoch frontier. */
  readonly timeFrontier: readonly number[];
  /** One line per run, naming its set and group. */
  readonly csv: string;
  /** One line per group: config, n, mean, sd, range and 95% interval, the recommendation and its rule. */
  readonly groupsCsv: string;
}

/** `model.val`: val.py's metrics of a model on a dataset split, and what it took. */
export interface ModelValResult extends EvalResult, ValidationFigures {
  /** The model as named by its source (a checkpoint file, or e.g. yolov5n for a bare architecture). */
  readonly weights: string;
  /** The data YAML file. */
  readonly data: string;
  /** The TensorFlow.js backend it ran on. */
  readonly backend: string;
  /** Threads the batches ran on (1: here, one batch at a time; NMS then timed apart from inference). */
  readonly workers: number;
  /** Batches run. */
  readonly batches: number;
  /** Set when the results mean little, e.g. a bare architecture without trained weights. */
  readonly warning?: string;
  /** With `saveTxt`: where the predictions were written as YOLO label files, and how many. */
  readonly saved?: ModelValSaved;
}

/** Predictions `model.val` wrote as label files (val.py --save-txt [--save-conf]). */
export interface ModelValSaved {
  /** The output folder, and its labels/ folder holding one STEM.txt per image with predictions. */
  readonly dir: string;
  readonly labelsDir: string;
  /** Label files written (images with at least one prediction). */
  readonly labelFiles: number;
  /** Images without any prediction: no file, as val.py (with `force`, an old file of theirs is removed). */
  readonly imagesWithoutPredictions: number;
  /** Prediction lines written, and whether each ends with its confidence. */
  readonly predictions: number;
  readonly saveConf: boolean;
}

/** One detection in original image pixels. */
export interface DetectionInfo {
  readonly cls: number;
  readonly name: string;
  readonly conf: number;
  /** Corner box [x1, y1, x2, y2], rounded to whole pixels as detect.py does. */
  readonly xyxy: readonly [number, number, number, number];
}

/** `model.detect`: what a model finds in one image (detect.py). */
export interface ModelDetectResult {
  /** The image file. */
  readonly source: string;
  readonly weights: string;
  readonly backend: string;
  readonly detections: readonly DetectionInfo[];
  /** Network input [height, width] after letterboxing. */
  readonly inputShape: readonly [number, number];
  /** Original image [height, width]. */
  readonly originalShape: readonly [number, number];
  /** Wall time of letterbox + forward + NMS, ms (image decoding excluded). */
  readonly ms: number;
  /** Set when the detections mean little, e.g. a bare architecture without trained weights. */
  readonly warning?: string;
}

/** Live progress of a run, pushed while it trains (throttled). */
export interface RunProgress {
  readonly runId: number;
  readonly phase: 'setup' | 'train' | 'val' | 'save';
  /** 0-based epoch. */
  readonly epoch: number;
  readonly epochs: number;
  /** 0-based batch within the epoch (train or val phase). */
  readonly batch: number;
  readonly batches: number;
  readonly losses?: { readonly box: number; readonly obj: number; readonly cls: number };
  readonly lr?: number;
  readonly imagesPerSecond?: number;
  /** Estimated seconds until the run ends. */
  readonly etaSeconds?: number;
  readonly tensorBytes?: number;
  readonly rssBytes?: number;
  readonly message?: string;
}

// ---- The command map ------------------------------------------------------------------------

export const commands = {
  'app.info': command<AppInfo>()(noInput),
  /** Architecture of a model, with what a freeze spec freezes and the presets' trainable counts. */
  'model.arch': command<ModelArchInfo>()(
    z
      .object({
        model: modelSpecSchema,
        nc: ncSchema.optional(),
        imgSize: imgSizeSchema.default(640),
        freeze: freezeTextSchema.optional(),
      })
      .strict(),
  ),
  /**
   * Evaluate a model on a dataset split as val.py (P, R, mAP50, mAP50-95 per class). `backend`:
   * the one to load (refused if another is already loaded); `workers`: replica threads on WASM/CPU.
   * `saveTxt`: also write each image's predictions (after val's multi-label NMS) as label files,
   * as val.py --save-txt; read back as predictions they give val's mAP (test/unit/val-save).
   */
  'model.val': command<ModelValResult>()(
    z
      .object({
        weights: modelSpecSchema,
        data: pathSchema,
        imgSize: imgSizeSchema.default(640),
        batch: z.number().int().min(1).max(1024).default(16),
        split: z.enum(['val', 'train', 'test']).default('val'),
        conf: z.number().min(0).max(1).default(0.001),
        iou: z.number().min(0).max(1).default(0.6),
        backend: backendSchema.optional(),
        workers: z.number().int().min(1).max(MAX_WORKERS).optional(),
        /** val.py --save-txt: each image's predictions as OUT/labels/STEM.txt (`cls cx cy w h`, normalised). */
        saveTxt: z.boolean().default(false),
        /** val.py --save-conf: the confidence ends each line. */
        saveConf: z.boolean().default(false),
        /** Output folder; absent: the next free <data folder>/val/exp, exp2, ... */
        out: pathSchema.optional(),
        /** Replace existing label files (refused before evaluating otherwise). */
        force: z.boolean().default(false),
      })
      .strict()
      .refine((v) => v.saveTxt || (!v.saveConf && v.out === undefined && !v.force), {
        message: 'saveConf, out and force apply to saved predictions: set saveTxt too',
      }),
  ),
  /** Run a model on one image file and list its detections, as detect.py. */
  'model.detect': command<ModelDetectResult>()(
    z
      .object({
        weights: modelSpecSchema,
        source: pathSchema,
        imgSize: imgSizeSchema.default(640),
        conf: z.number().min(0).max(1).default(0.25),
        iou: z.number().min(0).max(1).default(0.45),
        maxDet: z.number().int().min(1).max(100_000).default(1000),
        classes: z.array(z.number().int().min(0).max(999)).max(1000).optional(),
        agnostic: z.boolean().optional(),
        backend: backendSchema.optional(),
      })
      .strict(),
  ),
  /** Validation report of a dataset YAML: counts and every problem with file and line. */
  'data.check': command<DatasetReport>()(z.object({ data: pathSchema }).strict()),
  /** Queue one training run; it starts when the queue reaches it. */
  'runs.start': command<{ readonly runId: number }>()(trainConfigSchema),
  /** Queue one run per freeze spec (x BN policy x model), all else equal, tagged as one sweep. */
  'sweeps.start': command<{ readonly sweepId: number; readonly runIds: readonly number[] }>()(sweepRequestSchema),
  'runs.list': command<readonly RunSummary[]>()(
    z.object({ sweepId: runIdSchema.optional(), limit: z.number().int().min(1).max(1000).default(200) }).strict(),
  ),
  'runs.get': command<RunDetail>()(z.object({ id: runIdSchema }).strict()),
  /** Resource samples of a run over time, downsampled for charts (peaks kept). */
  'runs.samples': command<readonly ResourceSample[]>()(
    z.object({ id: runIdSchema, maxPoints: z.number().int().min(10).max(5000).default(500) }).strict(),
  ),
  /** Cancel a queued or running run (at the next batch boundary; what was recorded is kept). */
  'runs.cancel': command<{ readonly status: RunStatus }>()(z.object({ id: runIdSchema }).strict()),
  /** Queue an interrupted, failed or cancelled run again, resuming from its last checkpoint. */
  'runs.resume': command<{ readonly runId: number }>()(z.object({ id: runIdSchema }).strict()),
  /**
   * The built-in demo: generates its dataset (domain B) if needed and queues the freeze sweep
   * none / backbone / all-but-detect from the shipped base weights.
   */
  'demo.start': command<{ readonly sweepId: number; readonly runIds: readonly number[] }>()(z.object({}).strict()),
  /** Copy a run's checkpoints and metrics (CSV, JSON) into a folder. */
  'runs.export': command<{ readonly files: readonly string[] }>()(
    // `force`: write into a folder that is not empty (files of the same name are replaced).
    z.object({ id: runIdSchema, dir: pathSchema, force: z.boolean().default(false) }).strict(),
  ),
  'runs.delete': command<{ readonly deleted: number }>()(z.object({ id: runIdSchema }).strict()),
  /**
   * Compare runs: comparable sets, groups of repeats with statistics, frontiers within each set,
   * and a recommendation per set by a stated rule (metric, tolerance below the best, what to save).
   */
  'runs.compare': command<ComparisonResult>()(
    z
      .object({
        ids: z.array(runIdSchema).min(1).max(200),
        metric: z.enum(['map50_95', 'map50']).default(DEFAULT_RECOMMEND_OPTIONS.metric),
        tolerance: z.number().min(0).max(1).default(DEFAULT_RECOMMEND_OPTIONS.tolerance),
        save: z.enum(['memory', 'time', 'both']).default(DEFAULT_RECOMMEND_OPTIONS.save),
      })
      .strict(),
  ),
  // The contract's areas, each in its own file under ./commands/.
  ...jobCommands,
  ...datasetCommands,
  ...predictionCommands,
  ...prelabelCommands,
  ...modelExportCommands,
  ...fileCommands,
  ...clusterCommands,
} as const;

export type Commands = typeof commands;
export type CommandName = keyof Commands;
/** What a client sends (before defaults are applied). */
export type CommandInput<K extends CommandName> = z.input<Commands[K]['input']>;
/** What a handler receives (after validation and defaults). */
export type CommandArgs<K extends CommandName> = z.output<Commands[K]['input']>;
export type CommandOutput<K extends CommandName> = NonNullable<Commands[K]['output']>;

export function isCommandName(name: string): name is CommandName {
  return Object.prototype.hasOwnProperty.call(commands, name);
}

// ---- The event map --------------------------------------------------------------------------

export interface Events {
  /** A line for the status bar / log (service-wide notices). */
  'app.notice': { readonly level: 'info' | 'warning' | 'error'; readonly message: string };
  'run.progress': RunProgress;
  /** Preparing the demo's data: images written so far. */
  'demo.progress': { readonly done: number; readonly total: number };
  'run.status': { readonly runId: number; readonly status: RunStatus; readonly reason: string | null };
  /**
   * An epoch was recorded: the record as stored, and the per-class AP of that epoch, so a client
   * can update its lists and the open run's detail without asking again.
   */
  'run.epoch': { readonly runId: number; readonly epoch: EpochRecord; readonly classAp: readonly ClassMetrics[] };
  /** A background job of the service (pre-labelling, predictions, ...) advanced, finished, failed or was cancelled. */
  'job.progress': JobProgress;
}

export type EventName = keyof Events;
/** A pushed event: a union discriminated by `event`, so `if (m.event === 'run.progress')` narrows. */
export type EventMessage = { [K in EventName]: { readonly event: K; readonly payload: Events[K] } }[EventName];

const EVENT_NAMES: Readonly<Record<EventName, true>> = {
  'app.notice': true,
  'run.progress': true,
  'demo.progress': true,
  'run.status': true,
  'run.epoch': true,
  'job.progress': true,
};

/**
 * Whether a value received from a host (parsed JSON, an IPC message) is an event message: a known
 * event name and an object payload. The payload itself is trusted: the same contract produced it.
 */
export function isEventMessage(value: unknown): value is EventMessage {
  if (typeof value !== 'object' || value === null || !('event' in value) || !('payload' in value)) return false;
  const { event, payload } = value;
  return (
    typeof event === 'string' &&
    Object.prototype.hasOwnProperty.call(EVENT_NAMES, event) &&
    typeof payload === 'object' &&
    payload !== null
  );
}

// ---- Derived sides ----------------------------------------------------------------------------

/** The main side: one handler per command, or `tsc` fails. */
export type Handlers<Ctx> = {
  [K in CommandName]: (args: CommandArgs<K>, ctx: Ctx) => Promise<CommandOutput<K>>;
};

/** The renderer/CLI side: one method per command, answering a `Result`. */
export type Client = {
  [K in CommandName]: (input: CommandInput<K>) => Promise<Result<CommandOutput<K>>>;
};

/** What a host must provide to a client: the one generic call and the event stream. */
export interface Transport {
  invoke(name: CommandName, input: unknown): Promise<Result<unknown>>;
  /** Returns an unsubscribe function. */
  onEvent(listener: (message: EventMessage) => void): () => void;
}

/** Builds the typed client over any transport. */
export function createClient(transport: Transport): Client {
  const client = {} as Record<string, (input: unknown) => Promise<Result<unknown>>>;
  for (const name of Object.keys(commands) as CommandName[]) {
    client[name] = (input) => transport.invoke(name, input);
  }
  return client as unknown as Client;
}
