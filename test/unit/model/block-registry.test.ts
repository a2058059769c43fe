import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildGraph } from '../../../src/main/engine/model/graph.js';
import { blockForModule, canonicalModule, REGISTERED_MODULES } from '../../../src/main/engine/model/blocks/registry.js';
import { ModelYamlError, parseModelYaml, SUPPORTED_MODULES } from '../../../src/main/engine/model/yaml.js';
import { describeShared, shared } from '../../helpers/shared.js';

/** Module names (row[2]) of every backbone and head row of an official model YAML. */
function moduleNames(file: string): string[] {
  const doc = parse(readFileSync(shared('reference', 'models', file), 'utf8')) as Record<string, unknown>;
  return (['backbone', 'head'] as const).flatMap((section) =>
    (doc[section] as unknown[][]).map((row) => String(row[2])),
  );
}

describeShared('block registry against the official YOLOv5 YAML files', () => {
  const files = readdirSync(shared('reference', 'models')).filter((f) => /^yolov5\w*\.yaml$/.test(f));

  it('finds the official model YAMLs', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it.each(files)('has a block kind for every module %s uses', (file) => {
    const names = new Set(moduleNames(file));
    expect(names.size).toBeGreaterThan(0);
    for (const name of names) {
      const canonical = canonicalModule(name);
      expect(canonical, name).toBeDefined();
      expect(REGISTERED_MODULES).toContain(canonical);
      expect(blockForModule(name)?.modules, name).toContain(canonical);
    }
    // and the registry builds the file
    expect(
      buildGraph(parseModelYaml(readFileSync(shared('reference', 'models', file), 'utf8'), file)).modules,
    ).toHaveLength(moduleNames(file).length);
  });
});

describe('block registry', () => {
  it('is what the YAML reader supports, in the order error messages list', () => {
    expect(SUPPORTED_MODULES).toEqual([
      'Conv',
      'C3',
      'SPPF',
      'SPP',
      'Bottleneck',
      'BottleneckCSP',
      'Focus',
      'nn.Upsample',
      'Concat',
      'Detect',
    ]);
    expect(canonicalModule('Upsample')).toBe('nn.Upsample');
    expect(canonicalModule('torch.nn.Upsample')).toBe('nn.Upsample');
  });

  it('refuses an unknown module name with the existing error message', () => {
    expect(blockForModule('C2f')).toBeUndefined();
    expect(canonicalModule('C2f')).toBeUndefined();
    const text = [
      'nc: 80',
      'depth_multiple: 0.33',
      'width_multiple: 0.25',
      'anchors: 3',
      'backbone:',
      '  [[-1, 1, Conv, [64, 6, 2, 2]],',
      '   [-1, 1, C2f, [128]]]',
      'head:',
      '  [[[0, 1], 1, Detect, [nc, anchors]]]',
      '',
    ].join('\n');
    expect(() => parseModelYaml(text, 'v8.yaml')).toThrow(ModelYamlError);
    expect(() => parseModelYaml(text, 'v8.yaml')).toThrow(
      "v8.yaml: line 7: unknown module 'C2f' in backbone row 1; supported: Conv, C3, SPPF, SPP, Bottleneck, BottleneckCSP, Focus, nn.Upsample, Concat, Detect",
    );
  });
});
