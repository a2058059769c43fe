/**
 * `predictions.start` / `predictions.result`: a model's predictions on a dataset split against the
 * labels, as a background job (progress per batch, cancel between batches). A run is resolved to
 * its best checkpoint (its last when no epoch was validated), its dataset YAML and image size.
 */
import { existsSync } from 'node:fs';
import type { Handlers } from '../../../shared/contract.js';
import {
  DISAGREEMENT_SCORE_RULE,
  type predictionCommands,
  type PredictionsResult,
} from '../../../shared/commands/predictions.js';
import { FreezeLabError } from '../../../shared/result.js';
import { loadDataConfig } from '../../engine/data/config.js';
import { predictSplit } from '../../engine/eval/disagreements-run.js';
import { instantiateModel, modelYamlToObject, resolveModelSource } from '../../engine/model/source.js';
import { poolDetector, startInferencePool } from '../../engine/parallel/data-parallel.js';
import { defaultWorkerCount } from '../../engine/parallel/pool.js';
import { getRun } from '../../store/index.js';
import type { ServiceContext } from '../service.js';

type AreaHandlers = Pick<Handlers<ServiceContext>, keyof typeof predictionCommands>;

/** What a run gives: its best checkpoint (else last), dataset and image size. */
export function runSource(
  ctx: ServiceContext,
  runId: number,
): { weights: string; data: string; imgSize: number; note?: string } {
  const detail = getRun(ctx.store(), runId);
  const best = detail.artifacts.find((a) => a.kind === 'best');
  const last = detail.artifacts.find((a) => a.kind === 'last');
  const chosen = best ?? last;
  if (!chosen) {
    throw new FreezeLabError(
      'not-found',
      `Run ${runId} has no checkpoint yet (status ${detail.run.status}).`,
      'Pick a run that finished at least one epoch, or give weights and a data YAML.',
    );
  }
  if (!existsSync(chosen.path)) {
    throw new FreezeLabError(
      'not-found',
      `Run ${runId}'s ${chosen.kind} checkpoint ${chosen.path} is missing.`,
      'It was moved or deleted; give the weights file and the data YAML instead.',
    );
  }
  return {
    weights: chosen.path,
    data: detail.run.datasetPath,
    imgSize: detail.run.imgSize,
    ...(best ? {} : { note: `Run ${runId} has no best checkpoint; its last one is used.` }),
  };
}

export const predictionHandlers: AreaHandlers = {
  async 'predictions.start'(args, ctx) {
    const fromRun = args.runId !== undefined ? runSource(ctx, args.runId) : undefined;
    const weights = args.weights ?? fromRun!.weights;
    const dataYaml = args.data ?? fromRun!.data;
    const imgSize = args.imgSize ?? fromRun?.imgSize ?? 640;
    // Errors the user can fix are answered at once, not as a failed job.
    const cfg = await loadDataConfig(dataYaml);
    let src = await resolveModelSource(weights);
    if (!src.weights) src = await resolveModelSource(weights, { nc: cfg.nc, names: cfg.names });
    if (src.weights && src.graph.nc !== cfg.nc) {
      throw new FreezeLabError(
        'bad-file',
        `${src.label} has ${src.graph.nc} classes but ${cfg.yamlFile} has ${cfg.nc}.`,
        'Use weights trained on this dataset, or a data YAML with the same classes.',
      );
    }
    const warnings = [
      ...(fromRun?.note ? [fromRun.note] : []),
      ...(src.weights ? [] : [`${src.label} has no trained weights; its predictions mean nothing.`]),
    ];
    const title = `Predictions of ${fromRun ? `run ${args.runId}` : src.label} on ${cfg.yamlFile} (${args.split})`;
    return ctx.jobs.start('predictions', title, async ({ signal, progress }) => {
      const backend = await ctx.backend();
      const { model } = instantiateModel(src);
      const workers =
        backend.name === 'wasm' || backend.name === 'cpu' ? (args.workers ?? defaultWorkerCount(backend.name)) : 1;
      try {
        const pool =
          workers > 1
            ? await startInferencePool(model, modelYamlToObject(src.yaml, model.graph.nc), workers, backend.name)
            : undefined;
        try {
          progress(0, 0, 'Reading the split');
          const r = await predictSplit(model, {
            data: cfg,
            split: args.split,
            imgSize,
            batchSize: args.batch,
            conf: args.conf,
            iou: args.iou,
            confident: args.confident,
            signal,
            onProgress: (done, total) => progress(done, total, `${done} of ${total} images`),
            ...(pool ? { detector: poolDetector(pool) } : {}),
          });
          const result: PredictionsResult = {
            weights: src.label,
            ...(args.runId !== undefined ? { runId: args.runId } : {}),
            data: cfg.yamlFile,
            split: args.split,
            names: cfg.names,
            imgSize: r.imgSize,
            conf: args.conf,
            iou: args.iou,
            confident: args.confident,
            backend: backend.name,
            seconds: r.seconds,
            totals: r.totals,
            images: r.images,
            scoreRule: DISAGREEMENT_SCORE_RULE,
            ...(warnings.length ? { warning: warnings.join(' ') } : {}),
          };
          return result;
        } finally {
          await pool?.close();
        }
      } finally {
        model.dispose();
      }
    });
  },

  async 'predictions.result'(args, ctx) {
    const job = ctx.jobs.get(args.id);
    if (job.kind !== 'predictions') {
      throw new FreezeLabError('invalid-input', `Job ${args.id} is a ${job.kind} job, not predictions.`);
    }
    if (job.status !== 'completed' || job.result === undefined) {
      throw new FreezeLabError(
        'conflict',
        `Predictions job ${args.id} is ${job.status}${job.error ? `: ${job.error.message}` : ''}.`,
        job.status === 'running' ? 'Wait for it to complete (follow job.progress).' : 'Start it again.',
      );
    }
    return job.result as PredictionsResult;
  },
};
