/**
 * Architecture description for the UI and CLI: module rows with output shapes and FLOPs, the
 * parameter list, and trainable/frozen counts for a freeze choice. FLOPs follow YOLOv5's
 * utils/torch_utils.py model_info on the fused model (BatchNorm folded into a conv bias), as the
 * README figures are: thop counts out_numel * (c1*k*k + bias) per conv, times 2; pools and
 * upsampling count nothing.
 */
import type { ArchBufferRow, ArchDescription, ArchModuleRow, ArchParamRow } from '../../../shared/arch.js';
import { isFrozenParam, resolveFreeze } from '../../../shared/freeze.js';
import type { FreezeSpec } from '../../../shared/freeze.js';
import { numel } from '../host-tensor.js';
import { blockArch, savedPerOutput } from './blocks/registry.js';
import type { ModelGraph } from './graph.js';

/** Options for {@link describeArchitecture}. */
export interface DescribeOptions {
  /** Square image size for shapes and FLOPs (default 640, as YOLOv5 reports). */
  readonly imgSize?: number;
  /** Freeze choice: a spec, or resolved module indices. */
  readonly freeze?: FreezeSpec | readonly number[];
  /** Display name (default: the graph's source). */
  readonly name?: string;
}

/** Describes a graph at an image size, with trainable/frozen counts for an optional freeze choice. */
export function describeArchitecture(graph: ModelGraph, opts: DescribeOptions = {}): ArchDescription {
  const imgSize = opts.imgSize ?? 640;
  const frozenModules =
    opts.freeze === undefined
      ? []
      : Array.isArray(opts.freeze)
        ? [...(opts.freeze as readonly number[])]
        : resolveFreeze(opts.freeze as FreezeSpec, graph.summary);
  const sizes: { h: number; w: number }[] = [];
  const rows: ArchModuleRow[] = [];
  const paramsByModule = new Map<number, number>();
  for (const t of graph.tensors) {
    if (t.kind === 'param') paramsByModule.set(t.module, (paramsByModule.get(t.module) ?? 0) + numel(t.shape));
  }
  let strides: number[] = [];
  for (const m of graph.modules) {
    const inSize = (j: number): { h: number; w: number } =>
      j < 0 ? { h: imgSize, w: imgSize } : (sizes[j] ?? { h: 0, w: 0 });
    const fig = blockArch(m.block, m.c2, (position) => inSize(m.inputs[position] ?? -1));
    if (fig.strides) strides = fig.strides;
    const { outShape, macs, size } = fig;
    sizes.push(size);
    rows.push({
      index: m.index,
      from: m.from,
      n: m.n,
      repeats: m.repeats,
      type: m.type,
      yamlArgs: m.yamlArgs,
      args: m.args,
      params: paramsByModule.get(m.index) ?? 0,
      savedPerOutput: savedPerOutput(m.type),
      outShape,
      flops: 2 * macs,
      section: m.section,
    });
  }
  const parameters: ArchParamRow[] = [];
  const buffers: ArchBufferRow[] = [];
  for (const t of graph.tensors) {
    if (t.kind === 'param') {
      const trainable = !isFrozenParam(t.name, frozenModules);
      parameters.push({ name: t.name, shape: t.shape, numel: numel(t.shape), module: t.module, trainable });
    } else {
      buffers.push({ name: t.name, shape: t.shape, module: t.module });
    }
  }
  const totalParams = parameters.reduce((a, p) => a + p.numel, 0);
  const trainableParams = parameters.reduce((a, p) => a + (p.trainable ? p.numel : 0), 0);
  return {
    name: opts.name ?? graph.source,
    nc: graph.nc,
    depthMultiple: graph.depthMultiple,
    widthMultiple: graph.widthMultiple,
    imgSize,
    strides,
    modules: rows,
    parameters,
    buffers,
    totalParams,
    totalFlops: rows.reduce((a, r) => a + r.flops, 0),
    frozenModules,
    trainableParams,
    frozenParams: totalParams - trainableParams,
    summary: graph.summary,
  };
}

/** Trainable parameter count for each "freeze N" from 0 to the module count (YOLOv5 --freeze N). */
export function trainableByFreezeCount(graph: ModelGraph): number[] {
  const params = graph.tensors.filter((t) => t.kind === 'param');
  return Array.from({ length: graph.summary.moduleCount + 1 }, (_, n) =>
    params.reduce((a, t) => a + (t.module >= n ? numel(t.shape) : 0), 0),
  );
}
