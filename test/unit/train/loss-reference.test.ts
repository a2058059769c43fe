/**
 * The loss of yolov5n.pt on two coco128 images against official YOLOv5 v7.0 (PyTorch, BatchNorm in
 * eval mode): terms within 1e-4 relative, gradient norms within 1e-3 relative.
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { YoloModel } from '../../../src/main/engine/model/forward.js';
import { builtinModelYaml } from '../../../src/main/engine/model/builtin.js';
import { buildGraph } from '../../../src/main/engine/model/graph.js';
import { registerTrainingKernels } from '../../../src/main/engine/tf/index.js';
import { scaleHypForModel } from '../../../src/main/engine/train/hyp.js';
import { computeLoss, lossContextFromModel, type LossContext } from '../../../src/main/engine/train/loss.js';
import { readYoloCheckpoint } from '../../../src/main/engine/weights/pt.js';
import { HYP_PRESETS } from '../../../src/shared/hyp.js';
import { readNpy } from '../../helpers/npy.js';
import { describeShared, shared } from '../../helpers/shared.js';
import { useCpu, useWasm } from '../tf/util.js';

interface LossReference {
  hyp_scaled: Record<string, number>;
  imgsz: number;
  batch_size: number;
  total_loss: number;
  lbox: number;
  lobj: number;
  lcls: number;
  grad_norms: Record<string, number>;
}

function rel(a: number, b: number): number {
  return Math.abs(a - b) / Math.abs(b);
}

describeShared('YOLOv5 loss of yolov5n.pt against the PyTorch reference', () => {
  let ref: LossReference;
  let input: { shape: number[]; data: Float32Array };
  let targets: Float32Array;
  let weights: ReturnType<typeof readYoloCheckpoint>['tensors'];

  beforeAll(() => {
    ref = JSON.parse(readFileSync(shared('reference', 'loss-reference.json'), 'utf8')) as LossReference;
    input = readNpy(shared('reference', 'loss-input-nchw.npy'));
    targets = readNpy(shared('reference', 'loss-targets.npy')).data;
    weights = readYoloCheckpoint(new Uint8Array(readFileSync(shared('weights', 'yolov5n.pt'))), 'yolov5n.pt').tensors;
  });

  it('scales scratch-low like train.py does for nc=80, nl=3, img 320', () => {
    const h = scaleHypForModel(HYP_PRESETS['scratch-low'], { nc: 80, nl: 3, imgSize: ref.imgsz });
    for (const [k, v] of Object.entries(ref.hyp_scaled)) {
      expect(h[k as keyof typeof h], k).toBeCloseTo(v, 12);
    }
  });

  async function loadModel(): Promise<{ model: YoloModel; ctx: LossContext; x: tf.Tensor4D }> {
    const model = YoloModel.create(buildGraph(builtinModelYaml('yolov5n')));
    model.loadTensors(weights, { source: 'yolov5n.pt' });
    const hyp = scaleHypForModel(HYP_PRESETS['scratch-low'], { nc: 80, nl: 3, imgSize: ref.imgsz });
    const x = tf.tidy(() =>
      tf.transpose(tf.tensor4d(input.data, input.shape as [number, number, number, number]), [0, 2, 3, 1]),
    ) as tf.Tensor4D;
    return { model, ctx: lossContextFromModel(model, hyp), x };
  }

  function expectTerms(total: number, terms: number[]): void {
    expect(rel(total, ref.total_loss), `total ${total} vs ${ref.total_loss}`).toBeLessThan(1e-4);
    expect(rel(terms[0] ?? NaN, ref.lbox), `lbox ${terms[0]}`).toBeLessThan(1e-4);
    expect(rel(terms[1] ?? NaN, ref.lobj), `lobj ${terms[1]}`).toBeLessThan(1e-4);
    expect(rel(terms[2] ?? NaN, ref.lcls), `lcls ${terms[2]}`).toBeLessThan(1e-4);
  }

  it('matches total, lbox, lobj, lcls and all five gradient norms on wasm', async () => {
    await useWasm();
    registerTrainingKernels();
    const { model, ctx, x } = await loadModel();
    const names = Object.keys(ref.grad_norms);
    const vars = names.map((n) => {
      const v = model.params.get(n)?.variable;
      if (!v) throw new Error(`no parameter ${n}`);
      return v;
    });
    let terms: number[] = [];
    const { value, grads } = tf.variableGrads(() => {
      const loss = computeLoss(model.forward(x, { training: false }), targets, ctx);
      terms = [loss.lbox, loss.lobj, loss.lcls].map((t) => t.dataSync()[0] ?? NaN);
      return loss.total;
    }, vars);
    expectTerms(value.dataSync()[0] ?? NaN, terms);
    names.forEach((n, i) => {
      const g = grads[vars[i]?.name ?? ''];
      if (!g) throw new Error(`no gradient for ${n}`);
      const norm = Math.sqrt(tf.tidy(() => tf.sum(tf.square(g)).dataSync()[0] ?? NaN));
      const want = ref.grad_norms[n] ?? NaN;
      expect(rel(norm, want), `|grad ${n}| ${norm} vs ${want}`).toBeLessThan(1e-3);
    });
    tf.dispose([value, x, ...Object.values(grads)]);
    model.dispose();
  });

  it('matches on the cpu backend, given the network output (terms and the P5 bias gradient)', async () => {
    // The network runs on wasm (the cpu backend is ~25x slower); the loss and its gradient on cpu.
    await useWasm();
    const { model, ctx, x } = await loadModel();
    const maps = tf.tidy(() =>
      model.forward(x, { training: false }).map((r) => ({ shape: r.shape, data: r.dataSync() })),
    );
    tf.dispose(x);
    model.dispose();
    await useCpu();
    const raws = maps.map((m) => tf.tensor(m.data, m.shape) as tf.Tensor5D);
    let terms: number[] = [];
    let total = NaN;
    const dRaw = tf.grads((...xs: tf.Tensor[]) => {
      const loss = computeLoss(xs as tf.Tensor5D[], targets, ctx);
      terms = [loss.lbox, loss.lobj, loss.lcls].map((t) => t.dataSync()[0] ?? NaN);
      total = loss.total.dataSync()[0] ?? NaN;
      return loss.total;
    })(raws);
    expectTerms(total, terms);
    // d total / d model.24.m.2.bias[a*85 + k] = sum over batch and cells of d total / d raw[b, a, y, x, k]
    const biasNorm = tf.tidy(() => {
      const g = dRaw[2] as tf.Tensor5D;
      const perChannel = tf.sum(g, [0, 2, 3]);
      return Math.sqrt(tf.sum(tf.square(perChannel)).dataSync()[0] ?? NaN);
    });
    const want = ref.grad_norms['model.24.m.2.bias'] ?? NaN;
    expect(rel(biasNorm, want), `cpu |grad model.24.m.2.bias| ${biasNorm} vs ${want}`).toBeLessThan(1e-3);
    tf.dispose([...raws, ...dRaw]);
  });

  afterAll(async () => {
    await useWasm();
  });
});
