import * as tf from '@tensorflow/tfjs';
import { beforeAll, expect, it } from 'vitest';
import { YoloModel } from '../../../src/main/engine/model/forward.js';
import { buildGraph } from '../../../src/main/engine/model/graph.js';
import { parseModelYaml } from '../../../src/main/engine/model/yaml.js';
import { LEGACY_YAML } from './fixtures.js';

// The cpu backend has every gradient kernel (wasm lacks Conv2DBackpropFilter until one is registered).
beforeAll(async () => {
  await tf.setBackend('cpu');
});

it('a frozen prefix runs outside the tape; the rest gets finite gradients in train mode', () => {
  const m = YoloModel.create(buildGraph(parseModelYaml(LEGACY_YAML, 'legacy.yaml')), { seed: 3 });
  const x = tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
  const trainable = [...m.params.entries()].filter(([n]) => !/^model\.[0-2]\./.test(n));
  const prefix = m.runPrefix(x, 3, { training: true });
  expect([...prefix.outputs.keys()]).toEqual([2]);
  const { value, grads } = tf.variableGrads(
    () => {
      const s = m.runModules(prefix, 3, m.graph.modules.length, { training: true });
      return tf.addN((s.raws ?? []).map((r) => tf.mean(tf.square(r)))) as tf.Scalar;
    },
    trainable.map(([, t]) => t.variable),
  );
  expect(Number.isFinite(value.dataSync()[0])).toBe(true);
  expect(Object.keys(grads)).toHaveLength(trainable.length);
  for (const g of Object.values(grads)) expect(g.dataSync().every(Number.isFinite)).toBe(true);
  // The upsample (module 7) passes gradient back into module 6's conv.
  const g6 = grads[m.params.get('model.6.cv1.conv.weight')?.variable.name ?? ''];
  expect(g6 && tf.max(tf.abs(g6)).dataSync()[0]).toBeGreaterThan(0);
  m.disposeState(prefix);
  tf.dispose([value, x, ...Object.values(grads)]);
  m.dispose();
});
