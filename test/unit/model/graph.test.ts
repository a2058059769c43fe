import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { builtinModelYaml } from '../../../src/main/engine/model/builtin.js';
import { buildGraph, makeDivisible } from '../../../src/main/engine/model/graph.js';
import { describeArchitecture } from '../../../src/main/engine/model/arch.js';
import { ModelYamlError, parseModelYaml } from '../../../src/main/engine/model/yaml.js';
import { parseFreezeSpec, resolveFreeze } from '../../../src/shared/freeze.js';
import { describeShared, shared } from '../../helpers/shared.js';
import { LEGACY_YAML, YOLOV5N6_YAML } from './fixtures.js';

const yamlOf = (size: string): string => readFileSync(shared('reference', 'models', `yolov5${size}.yaml`), 'utf8');

/** yolov5n.yaml text with one row replaced (the tests' own bad fixtures). */
function edited(from: string, to: string): string {
  const text = yamlOf('n');
  expect(text).toContain(from);
  return text.replace(from, to);
}

describeShared('model YAML files as users have them', () => {
  it.each(['n', 's', 'm'] as const)('built-in yolov5%s equals the official YAML', (size) => {
    const fromYaml = buildGraph(parseModelYaml(yamlOf(size), `yolov5${size}.yaml`));
    const builtin = buildGraph(builtinModelYaml(`yolov5${size}`));
    expect(
      builtin.modules.map(({ block, args, yamlArgs, n, repeats, inputs }) => ({
        block,
        args,
        yamlArgs,
        n,
        repeats,
        inputs,
      })),
    ).toEqual(
      fromYaml.modules.map(({ block, args, yamlArgs, n, repeats, inputs }) => ({
        block,
        args,
        yamlArgs,
        n,
        repeats,
        inputs,
      })),
    );
    expect(builtin.tensors).toEqual(fromYaml.tensors);
    expect(builtin.summary).toEqual(fromYaml.summary);
  });

  it('names the file, line, section row and supported modules for an unknown module', () => {
    const text = edited('[-1, 3, C3, [512, False]],  # 13', '[-1, 3, Foo, [512, False]],  # 13');
    const line = text.split('\n').findIndex((l) => l.includes('Foo')) + 1;
    expect(() => parseModelYaml(text, 'my.yaml')).toThrow(ModelYamlError);
    expect(() => parseModelYaml(text, 'my.yaml')).toThrow(
      `my.yaml: line ${line}: unknown module 'Foo' in head row 3; supported: Conv, C3, SPPF, SPP, Bottleneck, BottleneckCSP, Focus, nn.Upsample, Concat, Detect`,
    );
  });

  it.each([
    [
      '[-1, 1, Conv, [256, 3, 2]],  # 3-P3/8',
      '[-1, 1, Conv],',
      /backbone row 3 \(module 3\): expected \[from, number, module, args\]/,
    ],
    ['[-1, 1, Conv, [256, 3, 2]],  # 3-P3/8', '[-1, 0, Conv, [256, 3, 2]],', /'number' must be a whole number >= 1/],
    ['[-1, 1, Conv, [256, 3, 2]],  # 3-P3/8', '[x, 1, Conv, [256, 3, 2]],', /'from' must be an index/],
    [
      '[[-1, 6], 1, Concat, [1]]',
      '[[-1, 20], 1, Concat, [1]]',
      /module 12 \(Concat\): 'from' 20 does not name an earlier module/,
    ],
    [
      '[[-1, 6], 1, Concat, [1]]',
      '[[-1, 8], 1, Concat, [1]]',
      /module 12 \(Concat\): joins maps of different strides \(16, 32\)/,
    ],
    ['[-1, 1, Conv, [256, 3, 2]],  # 3-P3/8', '[-1, 1, Conv, [256, 3, 2, None, 2]],', /grouped convolutions/],
    ['[[17, 20, 23], 1, Detect', '[[17, 20], 1, Detect', /3 anchor levels for 2 inputs/],
    ['width_multiple: 0.25', 'width_multiple: wide', /'width_multiple' must be a positive number/],
  ])('rejects a bad row: %s -> %s', (from, to, message) => {
    expect(() => buildGraph(parseModelYaml(edited(from, to), 'bad.yaml'))).toThrow(message);
  });

  it('reports the line of a bad row', () => {
    const text = edited('[-1, 1, Conv, [256, 3, 2]],  # 3-P3/8', '[-1, 0, Conv, [256, 3, 2]],');
    const line = text.split('\n').findIndex((l) => l.includes('[-1, 0, Conv')) + 1;
    expect(() => parseModelYaml(text, 'bad.yaml')).toThrow(`bad.yaml: line ${line}: backbone row 3`);
  });

  it('applies an nc override to Detect only', () => {
    const g = buildGraph(parseModelYaml(yamlOf('n'), 'yolov5n.yaml'), { nc: 3 });
    const detect = g.tensors.filter((t) => t.name.startsWith('model.24.m.'));
    expect(detect.map((t) => t.shape[0])).toEqual([24, 24, 24, 24, 24, 24]);
    const base = buildGraph(parseModelYaml(yamlOf('n'), 'yolov5n.yaml'));
    expect(g.tensors.filter((t) => !t.name.startsWith('model.24.m.'))).toEqual(
      base.tensors.filter((t) => !t.name.startsWith('model.24.m.')),
    );
  });
});

describe('parse_model semantics', () => {
  it('scales channels with make_divisible and depth with Python rounding', () => {
    expect(makeDivisible(1024 * 0.25)).toBe(256);
    expect(makeDivisible(64 * 0.125)).toBe(8);
    expect(makeDivisible(100)).toBe(104);
    const x = buildGraph(builtinModelYaml('yolov5x'));
    expect(x.modules.map((m) => m.repeats).filter((_, i) => [2, 4, 6, 8].includes(i))).toEqual([4, 8, 12, 4]);
    const m = buildGraph(builtinModelYaml('yolov5m'));
    expect(m.modules.map((mm) => mm.repeats).filter((_, i) => [2, 4, 6, 8].includes(i))).toEqual([2, 4, 6, 2]);
  });

  it('builds a P6 model with four Detect levels and a 12-module backbone', () => {
    const g = buildGraph(parseModelYaml(YOLOV5N6_YAML, 'yolov5n6.yaml'));
    expect(g.summary).toEqual({ moduleCount: 34, backboneCount: 12, detectIndex: 33 });
    expect(g.modules[7]?.type).toBe('Conv');
    expect(g.modules[7]?.c2).toBe(192);
    expect(g.modules[11]?.type).toBe('SPPF');
    const detect = g.modules[33];
    expect(detect?.block.kind === 'Detect' && detect.block.strides).toEqual([8, 16, 32, 64]);
    expect(g.tensors.find((t) => t.name === 'model.33.anchors')?.shape).toEqual([4, 3, 2]);
    expect(g.tensors.filter((t) => /^model\.33\.m\.\d\.weight$/.test(t.name)).map((t) => t.shape)).toEqual([
      [255, 64, 1, 1],
      [255, 128, 1, 1],
      [255, 192, 1, 1],
      [255, 256, 1, 1],
    ]);
    expect(resolveFreeze(parseFreezeSpec('backbone'), g.summary)).toEqual([...Array(12).keys()]);
    const arch = describeArchitecture(g);
    // Ultralytics' README: YOLOv5n6 3.2 M parameters, 4.6 GFLOPs at 640.
    expect(arch.totalParams / 1e6).toBeCloseTo(3.2, 1);
    expect(Math.abs(arch.totalFlops / 1e9 - 4.6)).toBeLessThan(0.1);
  });

  it('builds Focus, BottleneckCSP, SPP, repeated Conv and an anchor count with PyTorch names', () => {
    const g = buildGraph(parseModelYaml(LEGACY_YAML, 'legacy.yaml'));
    const names = new Map(g.tensors.map((t) => [t.name, t.shape]));
    expect(names.get('model.0.conv.conv.weight')).toEqual([8, 12, 3, 3]);
    expect(names.get('model.2.cv2.weight')).toEqual([8, 16, 1, 1]);
    expect(names.get('model.2.cv3.weight')).toEqual([8, 8, 1, 1]);
    expect(names.get('model.2.cv4.conv.weight')).toEqual([16, 16, 1, 1]);
    expect(names.get('model.2.bn.running_var')).toEqual([16]);
    expect(names.get('model.2.m.1.cv2.conv.weight')).toEqual([8, 8, 3, 3]);
    expect(names.get('model.4.1.conv.weight')).toEqual([32, 32, 3, 3]);
    expect(names.get('model.5.cv2.conv.weight')).toEqual([32, 64, 1, 1]);
    expect(names.get('model.10.anchors')).toEqual([2, 3, 2]);
    expect(names.get('model.10.m.1.weight')).toEqual([24, 32, 1, 1]);
    expect(g.modules[4]?.block.kind).toBe('Sequential');
    expect(g.modules[10]?.block.kind === 'Detect' && g.modules[10].block.strides).toEqual([4, 8]);
  });
});
