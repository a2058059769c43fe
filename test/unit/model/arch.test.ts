import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { describeArchitecture, trainableByFreezeCount } from '../../../src/main/engine/model/arch.js';
import { builtinModelYaml } from '../../../src/main/engine/model/builtin.js';
import { buildGraph } from '../../../src/main/engine/model/graph.js';
import { parseModelYaml } from '../../../src/main/engine/model/yaml.js';
import { parseFreezeSpec } from '../../../src/shared/freeze.js';
import { describeShared, shared } from '../../helpers/shared.js';

interface RefArch {
  nc: number;
  depth_multiple: number;
  width_multiple: number;
  total_params: number;
  modules: {
    index: number;
    source: number | number[];
    repeats: number;
    type: string;
    params: number;
    args_yaml: unknown[];
  }[];
  parameters: { name: string; shape: number[] }[];
  buffers: { name: string; shape: number[] }[];
  trainable_params_by_freeze: Record<string, number>;
}

/** YOLOv5 README figures (GFLOPs at 640) the FLOPs count must reproduce within 0.1. */
const README_GFLOPS = { n: 4.5, s: 16.5, m: 49.0 };

describeShared('architecture against the official reference', () => {
  for (const size of ['n', 's', 'm'] as const) {
    const ref = JSON.parse(readFileSync(shared('reference', `arch-yolov5${size}.json`), 'utf8')) as RefArch;
    const graph = buildGraph(
      parseModelYaml(readFileSync(shared('reference', 'models', `yolov5${size}.yaml`), 'utf8'), `yolov5${size}.yaml`),
    );
    const arch = describeArchitecture(graph);

    it(`yolov5${size}: parameter and buffer names and shapes, in order`, () => {
      expect(arch.parameters.map((p) => ({ name: p.name, shape: p.shape }))).toEqual(ref.parameters);
      expect(arch.buffers.map((b) => ({ name: b.name, shape: b.shape }))).toEqual(ref.buffers);
      expect(arch.totalParams).toBe(ref.total_params);
      expect(arch.nc).toBe(ref.nc);
    });

    it(`yolov5${size}: module rows`, () => {
      expect(
        arch.modules.map((m) => ({
          index: m.index,
          source: m.from,
          repeats: m.n,
          type: m.type,
          params: m.params,
          args_yaml: m.yamlArgs,
        })),
      ).toEqual(ref.modules);
      expect(arch.modules.filter((m) => m.section === 'backbone')).toHaveLength(10);
    });

    it(`yolov5${size}: trainable parameters for every freeze N`, () => {
      const expected = Object.entries(ref.trainable_params_by_freeze).map(([n, v]) => [Number(n), v]);
      const viaSpec = expected.map(([n]) => [
        n,
        describeArchitecture(graph, { freeze: parseFreezeSpec(String(n)) }).trainableParams,
      ]);
      expect(viaSpec).toEqual(expected);
      expect(trainableByFreezeCount(graph)).toEqual(expected.map(([, v]) => v));
    });

    it(`yolov5${size}: FLOPs at 640 match YOLOv5's reported figure`, () => {
      expect(Math.abs(arch.totalFlops / 1e9 - README_GFLOPS[size])).toBeLessThan(0.1);
    });
  }

  it('yolov5n backbone preset: 825,789 trainable at nc 80, 25 modules', () => {
    const arch = describeArchitecture(buildGraph(builtinModelYaml('yolov5n')), { freeze: parseFreezeSpec('backbone') });
    expect(arch.modules).toHaveLength(25);
    expect(arch.trainableParams).toBe(825_789);
    expect(arch.frozenParams).toBe(arch.totalParams - 825_789);
    expect(arch.frozenModules).toEqual([...Array(10).keys()]);
    expect(arch.parameters.filter((p) => !p.trainable).every((p) => p.module < 10)).toBe(true);
  });
});

it('gives output shapes and scaled arguments at an image size', () => {
  const arch = describeArchitecture(buildGraph(builtinModelYaml('yolov5n')), { imgSize: 320 });
  expect(arch.strides).toEqual([8, 16, 32]);
  expect(arch.modules[0]?.outShape).toEqual([16, 160, 160]);
  expect(arch.modules[9]?.outShape).toEqual([256, 10, 10]);
  expect(arch.modules[11]?.outShape).toEqual([128, 20, 20]);
  expect(arch.modules[17]?.outShape).toEqual([64, 40, 40]);
  expect(arch.modules[24]?.outShape).toEqual([3 * (40 * 40 + 20 * 20 + 10 * 10), 85]);
  expect(arch.modules[4]?.args).toEqual([64, 64, 2]);
  expect(arch.modules[4]?.repeats).toBe(2);
  expect(arch.modules[13]?.args).toEqual([256, 128, 1, false]);
  expect(arch.modules.every((m) => m.flops >= 0)).toBe(true);
  // FLOPs scale with the image area for these strides.
  const at640 = describeArchitecture(buildGraph(builtinModelYaml('yolov5n')), { imgSize: 640 });
  expect(at640.totalFlops / arch.totalFlops).toBeCloseTo(4, 6);
});
