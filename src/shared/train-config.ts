/**
 * The training configuration: one schema for the CLI, the service, the launcher and the worker.
 * Defaults follow the Ultralytics freeze guide's experiments (img 320 here for CPU budgets).
 */
import { z } from 'zod';
import { backendSchema } from './backend.js';
import { bnPolicySchema } from './runs.js';

export const imgSizeSchema = z
  .number()
  .int()
  .min(32)
  .max(2048)
  .refine((v) => v % 32 === 0, 'image size must be a multiple of 32');
export const ncSchema = z.number().int().min(1).max(1000);
/** A model: built-in size (n, s, m, l, x, yolov5n...), or a path to a .yaml, .pt or .safetensors. */
export const modelSpecSchema = z.string().trim().min(1, 'name a model: n, s, m, l, x, or a .yaml/.pt file').max(4096);
export const pathSchema = z.string().trim().min(1, 'give a path').max(4096);
/** A hyperparameter preset's name or a hyp YAML's path (`~` expanded main-side, as for paths). */
export const hypSchema = z.string().trim().min(1).max(4096);
export const freezeTextSchema = z.string().trim().max(1000);
export const runIdSchema = z.number().int().positive();
/** Upper bound of `--workers` (each WASM worker can hold up to 4 GiB). */
export const MAX_WORKERS = 64;
/** Upper bound of a sweep's repeats (`--seeds`). */
export const MAX_SEEDS = 20;

const trainFields = {
  /** Starting weights (.pt or FreezeLab .safetensors); absent = train from the model's fresh init. */
  weights: pathSchema.optional(),
  /** Model YAML or built-in size; absent = the architecture stored in the weights. */
  model: modelSpecSchema.optional(),
  /** Ultralytics data YAML. */
  data: pathSchema,
  imgSize: imgSizeSchema.default(320),
  batch: z.number().int().min(1).max(256).default(16),
  epochs: z.number().int().min(1).max(1000).default(3),
  /** Freeze spec: N, a list, or none | backbone | all-but-detect. */
  freeze: freezeTextSchema.default('none'),
  /** Hyper-parameters: scratch-low | finetune | VOC, or a YAML file. */
  hyp: hypSchema.default('scratch-low'),
  /** BatchNorm of frozen modules: `update` (YOLOv5) or `freeze` (eval-mode statistics). */
  bnFrozen: bnPolicySchema.default('update'),
  backend: backendSchema.optional(),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .default(0),
  /**
   * YOLOv5's AutoAnchor: when the anchors fit the labels at this image size with a best possible
   * recall under 0.98, train with k-means anchors instead (YOLOv5's default; off = --noautoanchor).
   */
  autoanchor: z.boolean().default(true),
  /** Keep decoded, resized training images in memory. */
  cache: z.boolean().default(false),
  /**
   * Data-parallel training workers, each with its own backend and model replica (absent: one per
   * core on WASM/CPU; native TensorFlow always uses one, as it already uses every core or the GPU).
   */
  workers: z.number().int().min(1).max(MAX_WORKERS).optional(),
  name: z.string().trim().min(1).max(200).optional(),
};

export const trainConfigSchema = z
  .object(trainFields)
  .strict()
  .refine((c) => c.weights !== undefined || c.model !== undefined, {
    message: 'give --weights (a .pt or .safetensors file) or --model (n, s, m, l, x or a .yaml)',
    path: ['weights'],
  });

export type TrainConfig = z.output<typeof trainConfigSchema>;
export type TrainConfigInput = z.input<typeof trainConfigSchema>;

/** A sweep: the same settings for every run but the axes that vary. */
export const sweepRequestSchema = z
  .object({
    ...trainFields,
    freeze: z.undefined().optional(),
    /** One run per freeze spec (and per BN policy and model, when given). */
    freezes: z.array(freezeTextSchema.min(1)).min(1).max(32),
    bnPolicies: z.array(bnPolicySchema).min(1).max(2).optional(),
    models: z.array(modelSpecSchema).min(1).max(5).optional(),
    /**
     * Repeats: K runs of each configuration, with seeds seed, seed+1, ..., seed+K-1, so a
     * comparison can tell differences from seed noise (default 1).
     */
    seeds: z.number().int().min(1).max(MAX_SEEDS).optional(),
  })
  .strict()
  .refine((c) => c.weights !== undefined || c.model !== undefined || c.models !== undefined, {
    message: 'give weights or a model',
    path: ['weights'],
  });

export type SweepRequest = z.output<typeof sweepRequestSchema>;
export type SweepRequestInput = z.input<typeof sweepRequestSchema>;

/**
 * Expands a sweep into the run configurations it queues (freeze varies fastest, the seed slowest:
 * every configuration gets its first seed before any gets a second, so a sweep stopped early still
 * compares every configuration).
 */
export function expandSweep(request: SweepRequest): TrainConfig[] {
  const { freezes, bnPolicies, models, seeds = 1, ...base } = request;
  const out: TrainConfig[] = [];
  for (let repeat = 0; repeat < seeds; repeat++) {
    const seed = base.seed + repeat;
    for (const model of models ?? [base.model]) {
      for (const bnFrozen of bnPolicies ?? [base.bnFrozen]) {
        for (const freeze of freezes) {
          const parts = [
            base.name,
            model && models ? model : undefined,
            `freeze ${freeze}`,
            bnPolicies ? `bn ${bnFrozen}` : undefined,
            seeds > 1 ? `seed ${seed}` : undefined,
          ];
          out.push({
            ...base,
            ...(model !== undefined ? { model } : {}),
            bnFrozen,
            freeze,
            seed,
            name: parts.filter(Boolean).join(' · '),
          });
        }
      }
    }
  }
  return out;
}

/** Version of the stored run configuration (`configVersion`); runs queued before it carry none. */
export const RUN_CONFIG_VERSION = 1;

/**
 * A run's configuration as queued and stored: the training configuration with its paths made
 * absolute, its freeze spec in canonical form, its worker count decided, and the freeze resolved
 * once, against the model's graph, to the modules it freezes (`frozenModules`).
 */
export const resolvedTrainConfigSchema = z
  .object({
    ...trainFields,
    configVersion: z.literal(RUN_CONFIG_VERSION),
    frozenModules: z.array(z.number().int().min(0).max(100_000)).max(100_000),
  })
  .strict()
  .refine((c) => c.weights !== undefined || c.model !== undefined, {
    message: 'give weights or a model',
    path: ['weights'],
  });

export type ResolvedTrainConfig = z.output<typeof resolvedTrainConfigSchema>;

/**
 * The one parse of a stored run configuration: a resolved one (`configVersion` 1), or one queued
 * before the version existed (schema 4 and earlier, no frozen module list), which parses as a plain
 * `TrainConfig`; its freeze is then resolved once, where the model is built (`setupTraining`).
 */
export function parseRunConfig(stored: unknown): ResolvedTrainConfig | TrainConfig {
  const versioned = typeof stored === 'object' && stored !== null && 'configVersion' in stored;
  return versioned ? resolvedTrainConfigSchema.parse(stored) : trainConfigSchema.parse(stored);
}

/** The runs table's indexed columns, all derived from the one stored configuration. */
export function runColumnsOf(config: ResolvedTrainConfig): {
  readonly imgSize: number;
  readonly batch: number;
  readonly epochs: number;
  readonly freezeSpec: string;
  readonly frozenModules: readonly number[];
  readonly bnPolicy: ResolvedTrainConfig['bnFrozen'];
  readonly hypName: string;
  readonly backend: string | null;
  readonly seed: number;
} {
  return {
    imgSize: config.imgSize,
    batch: config.batch,
    epochs: config.epochs,
    freezeSpec: config.freeze,
    frozenModules: config.frozenModules,
    bnPolicy: config.bnFrozen,
    hypName: config.hyp,
    backend: config.backend ?? null,
    seed: config.seed,
  };
}
