/** The training options shared by `freezelab train` and `freezelab sweep`. */
import { formatFreezeSpec, parseFreezeSpec } from '../../shared/freeze.js';
import { bnPolicySchema } from '../../shared/runs.js';
import { MAX_WORKERS, type TrainConfigInput } from '../../shared/train-config.js';
import { builtinName } from '../engine/model/source.js';
import { type CliValues, intOption, UsageError } from './cli.js';
import { BACKEND_WORDS, backendOption } from './service-factory.js';

export const trainOptionSpec = {
  weights: { type: 'string' },
  model: { type: 'string' },
  data: { type: 'string' },
  img: { type: 'string' },
  batch: { type: 'string' },
  epochs: { type: 'string' },
  hyp: { type: 'string' },
  'bn-frozen': { type: 'string' },
  backend: { type: 'string' },
  seed: { type: 'string' },
  cache: { type: 'boolean' },
  workers: { type: 'string' },
  noautoanchor: { type: 'boolean' },
  name: { type: 'string' },
  'freeze-untrained': { type: 'boolean' },
} as const;

export const trainOptionHelp = [
  '  --weights W      starting weights: a YOLOv5 .pt or a FreezeLab .safetensors',
  '  --model M        n, s, m, l, x or a model .yaml (with --weights: transfer what matches)',
  '  --freeze-untrained',
  '                   with --model and no --weights, freeze anyway: frozen modules keep their',
  '                   random initial values and only the rest learns (refused without it)',
  '  --data D         the dataset YAML (Ultralytics format)',
  '  --img N          training and validation image size (default 320)',
  '  --batch N        batch size (default 16); gradients accumulate to a nominal 64 as YOLOv5',
  '  --epochs N       epochs (default 3)',
  '  --hyp H          scratch-low (default), finetune, VOC, or a hyp YAML file',
  '  --bn-frozen P    BatchNorm of frozen modules: update (YOLOv5, default) or freeze',
  `  --backend NAME   ${BACKEND_WORDS} (default: the best that loads)`,
  '  --seed S         seed of initialisation and augmentation (default 0)',
  '  --cache          keep decoded training images in memory, however many (datasets that',
  '                   decode to at most 1 GiB and a tenth of RAM are kept anyway)',
  '  --workers N      data-parallel training workers, each a thread with its own model replica',
  '                   (default: one per core on WASM/CPU, 1 on native TensorFlow; 1 = no threads)',
  "  --noautoanchor   keep the weights' anchors (default: YOLOv5's AutoAnchor replaces them with",
  '                   k-means anchors when they fit the labels at this size with recall < 0.98)',
  '  --name TEXT      a name for the run',
].join('\n');

function text(values: CliValues, name: string): string | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.trim() === '') throw new UsageError(`--${name} needs a value.`);
  return v;
}

/** Training settings from the command line (validated again, fully, by the service). */
export function trainInput(values: CliValues): Omit<TrainConfigInput, 'freeze'> {
  const data = text(values, 'data');
  if (!data) throw new UsageError('--data is required (a dataset YAML).');
  const weights = text(values, 'weights');
  const model = text(values, 'model');
  if (!weights && !model) throw new UsageError('give --weights (a .pt file) or --model (n, s, m, l, x or a .yaml).');
  const bnText = text(values, 'bn-frozen');
  const bn = bnText === undefined ? undefined : bnPolicySchema.safeParse(bnText).data;
  if (bnText !== undefined && bn === undefined) {
    throw new UsageError(`--bn-frozen takes update or freeze, got '${bnText}'.`);
  }
  const backend = backendOption(values);
  const hyp = text(values, 'hyp');
  const name = text(values, 'name');
  return {
    data,
    ...(weights ? { weights } : {}),
    ...(model ? { model } : {}),
    imgSize: intOption(values, 'img', 320, 32, 2048),
    batch: intOption(values, 'batch', 16, 1, 256),
    epochs: intOption(values, 'epochs', 3, 1, 1000),
    ...(hyp ? { hyp } : {}),
    ...(bn ? { bnFrozen: bn } : {}),
    ...(backend ? { backend } : {}),
    seed: intOption(values, 'seed', 0, 0, 2 ** 31 - 1),
    cache: values.cache === true,
    ...(values.workers !== undefined ? { workers: intOption(values, 'workers', 1, 1, MAX_WORKERS) } : {}),
    ...(values.noautoanchor === true ? { autoanchor: false } : {}),
    ...(name ? { name } : {}),
  };
}

/**
 * Frozen modules of a model without trained weights keep their random initial values, which is
 * rarely meant: the CLI refuses unless --freeze-untrained says so, as the launcher asks for a
 * tick. The service allows it (the launcher confirms on its own). `models` are the --model or
 * --models values; sizes and YAMLs carry no weights, a .pt or .safetensors model does.
 */
export function confirmUntrainedFreeze(values: CliValues, models: readonly string[], freezes: readonly string[]): void {
  if (values['freeze-untrained'] === true || text(values, 'weights') !== undefined) return;
  const untrained = models
    .map((m) => builtinName(m) ?? (/\.ya?ml$/i.test(m.trim()) ? m.trim() : undefined))
    .find((m) => m !== undefined);
  // Specs are parsed by the caller first; 'none' and '0' freeze nothing (formatFreezeSpec's forms).
  const freezing = freezes.find((f) => !['none', '0'].includes(formatFreezeSpec(parseFreezeSpec(f))));
  if (untrained === undefined || freezing === undefined) return;
  throw new UsageError(
    `--freeze ${freezing} without --weights keeps modules of ${untrained} frozen at their random initial values. ` +
      'Give --weights, use --freeze none, or pass --freeze-untrained to do it anyway.',
    { pointToHelp: false },
  );
}
