/** `model.export`: a weights file or a run's best checkpoint written as ONNX (see engine/export). */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Handlers } from '../../../shared/contract.js';
import type { modelExportCommands } from '../../../shared/commands/model-export.js';
import { FreezeLabError } from '../../../shared/result.js';
import { exportOnnxInThread } from '../../engine/export/export-model.js';
import { exportsDirOf } from '../../paths.js';
import { getRun } from '../../store/index.js';
import { packageInfo } from '../../version.js';
import type { ServiceContext } from '../service.js';
import { writeExportFile } from './export.js';

type AreaHandlers = Pick<Handlers<ServiceContext>, keyof typeof modelExportCommands>;

/** What a run exports: its best checkpoint, else its last one (with a warning). */
async function runCheckpoint(
  ctx: ServiceContext,
  runId: number,
): Promise<{ file: string; kind: 'best' | 'last'; warning?: string }> {
  const { artifacts } = getRun(ctx.store(), runId);
  const latest = (kind: 'best' | 'last') => artifacts.filter((a) => a.kind === kind).at(-1);
  const best = latest('best');
  const pick = best ?? latest('last');
  if (!pick) {
    throw new FreezeLabError(
      'not-found',
      `Run ${runId} has no checkpoint to export.`,
      'A run writes its checkpoints after its first epoch; export a run that finished one.',
    );
  }
  if (!(await stat(pick.path).catch(() => undefined))?.isFile()) {
    throw new FreezeLabError(
      'not-found',
      `Run ${runId}'s ${pick.kind} checkpoint ${pick.path} is gone.`,
      'It was moved or deleted; export another run, or a weights file with --weights.',
    );
  }
  return {
    file: pick.path,
    kind: pick.kind === 'best' ? 'best' : 'last',
    ...(best ? {} : { warning: `Run ${runId} has no best checkpoint; its last one was exported.` }),
  };
}

/** A file name for the export: `yolov5n.pt` -> `yolov5n.onnx`, a run's -> `run-7-best.onnx`. */
function exportName(label: string, run?: { id: number; kind: string }): string {
  if (run) return `run-${run.id}-${run.kind}.onnx`;
  const stem = path.parse(label).name.replace(/[^\w.-]+/g, '_');
  return `${stem || 'model'}.onnx`;
}

export const modelExportHandlers: AreaHandlers = {
  async 'model.export'(args, ctx) {
    const out = path.resolve(args.out ?? exportsDirOf(ctx.paths));
    const run = args.runId !== undefined ? await runCheckpoint(ctx, args.runId) : undefined;
    const spec = run?.file ?? args.weights;
    if (spec === undefined) throw new FreezeLabError('invalid-input', 'Give weights or a run id to export.');
    const version = packageInfo().version;
    // Loading a checkpoint and writing the graph takes seconds for the larger models: off the loop.
    const onnx = await exportOnnxInThread({
      spec,
      imgSize: args.imgSize,
      opset: args.opset,
      version,
      ...(args.runId !== undefined ? { metadata: { freezelab_run: String(args.runId) } } : {}),
    });
    const file = await writeExportFile(
      out,
      exportName(onnx.label, run && args.runId !== undefined ? { id: args.runId, kind: run.kind } : undefined),
      onnx.bytes,
      args.force,
    );
    const warnings = [
      ...(run?.warning ? [run.warning] : []),
      ...(onnx.trained ? [] : [`${onnx.label} has no trained weights; the exported model's outputs mean nothing.`]),
    ];
    return {
      files: [file],
      format: args.format,
      source: run?.file ?? onnx.label,
      ...(args.runId !== undefined && run ? { runId: args.runId, checkpoint: run.kind } : {}),
      opset: onnx.opset,
      inputShape: onnx.inputShape,
      outputShape: onnx.outputShape,
      names: onnx.names,
      bytes: onnx.bytes.byteLength,
      ...(warnings.length > 0 ? { warning: warnings.join(' ') } : {}),
    };
  },
};
