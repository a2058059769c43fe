/** `model.prelabel`: pre-label a folder, glob or list as a background job (detect.py --save-txt). */
import path from 'node:path';
import type { Handlers } from '../../../shared/contract.js';
import type { PrelabelSummary, prelabelCommands } from '../../../shared/commands/prelabel.js';
import { FreezeLabError } from '../../../shared/result.js';
import { nextFreeDir, prelabelFiles } from '../../engine/infer/prelabel.js';
import { expandSource } from '../../engine/infer/source.js';
import { instantiateModel, modelYamlToObject, resolveModelSource } from '../../engine/model/source.js';
import { poolDetector, startInferencePool } from '../../engine/parallel/data-parallel.js';
import { defaultWorkerCount } from '../../engine/parallel/pool.js';
import type { ServiceContext } from '../service.js';

type AreaHandlers = Pick<Handlers<ServiceContext>, keyof typeof prelabelCommands>;

export const prelabelHandlers: AreaHandlers = {
  async 'model.prelabel'(args, ctx) {
    // What can be wrong with the request is said now, not as a failed job.
    const expanded = await expandSource(args.source);
    if (expanded.files.length === 0) {
      throw new FreezeLabError(
        'not-found',
        `${args.source}: no image files (${expanded.kind}).`,
        'Give a folder holding .jpg/.png images (sub-folders are not searched), a pattern, or a .txt list.',
      );
    }
    const src = await resolveModelSource(args.weights);
    const warning = src.weights ? undefined : `${src.label} has no trained weights; its labels mean nothing.`;
    const out = path.resolve(args.out ?? (await nextFreeDir(path.join(ctx.paths.dataDir, 'detect', 'exp'))));
    const n = expanded.files.length;
    const title = `Pre-labelling ${n} image${n === 1 ? '' : 's'} in ${args.source}`;
    return ctx.jobs.start('prelabel', title, async ({ signal, progress }) => {
      const backend = await ctx.backend();
      const { model } = instantiateModel(src);
      const wanted =
        backend.name === 'wasm' || backend.name === 'cpu' ? (args.workers ?? defaultWorkerCount(backend.name)) : 1;
      const workers = Math.max(1, Math.min(wanted, n));
      try {
        const pool =
          workers > 1
            ? await startInferencePool(model, modelYamlToObject(src.yaml, model.graph.nc), workers, backend.name)
            : undefined;
        try {
          const counts = await prelabelFiles(model, src.names, {
            files: expanded.files,
            out,
            imgSize: args.imgSize,
            conf: args.conf,
            iou: args.iou,
            maxDet: args.maxDet,
            ...(args.classes ? { classes: args.classes } : {}),
            agnostic: args.agnostic,
            saveTxt: args.saveTxt,
            saveConf: args.saveConf,
            saveImg: args.saveImg,
            force: args.force,
            signal,
            onProgress: progress,
            ...(pool ? { detector: poolDetector(pool) } : {}),
          });
          const summary: PrelabelSummary = {
            source: args.source,
            sourceKind: expanded.kind,
            weights: src.label,
            out,
            labelsDir: path.join(out, 'labels'),
            ...counts,
            workers,
            ...(warning ? { warning } : {}),
          };
          return summary;
        } finally {
          await pool?.close();
        }
      } finally {
        model.dispose();
      }
    });
  },
};
