/** `model.arch`: a model's modules, parameters and what each freeze preset leaves trainable. */
import type { CommandArgs, CommandOutput } from '../../../shared/contract.js';
import { FREEZE_PRESETS, parseFreezeSpec, resolveFreeze } from '../../../shared/freeze.js';
import { describeArchitecture, trainableByFreezeCount } from '../../engine/model/arch.js';
import { resolveModelSource } from '../../engine/model/source.js';

export async function modelArch(args: CommandArgs<'model.arch'>): Promise<CommandOutput<'model.arch'>> {
  const source = await resolveModelSource(args.model, args.nc !== undefined ? { nc: args.nc } : {});
  const { graph } = source;
  const freeze = args.freeze ? parseFreezeSpec(args.freeze) : undefined;
  const arch = describeArchitecture(graph, {
    imgSize: args.imgSize,
    name: source.label,
    ...(freeze ? { freeze } : {}),
  });
  const paramsOf = (frozen: readonly number[]) => {
    const set = new Set(frozen);
    return arch.modules.reduce((a, m) => a + (set.has(m.index) ? 0 : m.params), 0);
  };
  // Sanity: the per-module sums agree with YOLOv5's --freeze N counting.
  const byCount = trainableByFreezeCount(graph);
  if (byCount[0] !== arch.totalParams) throw new Error('parameter counts disagree between module rows and tensors');
  return {
    source: { kind: source.kind, label: source.label, ...(source.file ? { file: source.file } : {}) },
    arch,
    presets: FREEZE_PRESETS.map((p) => {
      const frozenModules = resolveFreeze({ kind: 'preset', preset: p.id }, graph.summary);
      return { ...p, frozenModules, trainableParams: paramsOf(frozenModules) };
    }),
    names: source.names,
  };
}
