import { describe, expect, it } from 'vitest';
import {
  TrainSchedule,
  interp,
  lrLambda,
  nominalAccumulate,
  scaledWeightDecay,
  warmupIterations,
} from '../../../src/main/engine/train/schedule.js';
import { roundHalfEven } from '../../../src/main/engine/eval/numpy.js';
import { HYP_PRESETS } from '../../../src/shared/hyp.js';

const hyp = HYP_PRESETS['scratch-low'];

describe('YOLOv5 schedule helpers', () => {
  it('rounds half to even like Python round / numpy .round', () => {
    expect([0.5, 1.5, 2.5, 3.5, 2.4, 2.6, 4].map(roundHalfEven)).toEqual([0, 2, 2, 4, 2, 3, 4]);
  });

  it('accumulates to a nominal batch of 64 and scales weight decay with it', () => {
    expect([1, 16, 24, 40, 48, 64, 128].map((b) => nominalAccumulate(b))).toEqual([64, 4, 3, 2, 1, 1, 1]);
    expect(scaledWeightDecay(0.0005, 16)).toBeCloseTo(0.0005, 15); // 16 * 4 / 64 = 1
    expect(scaledWeightDecay(0.0005, 24)).toBeCloseTo((0.0005 * 72) / 64, 15);
    expect(scaledWeightDecay(0.0005, 48)).toBeCloseTo((0.0005 * 48) / 64, 15);
  });

  it('warms up over max(round(warmup_epochs * nb), 100) iterations', () => {
    expect(warmupIterations(3, 8)).toBe(100);
    expect(warmupIterations(3, 50)).toBe(150);
    expect(warmupIterations(2.5, 41)).toBe(102); // round(102.5) = 102
  });

  it('np.interp clamps outside the range', () => {
    expect(interp(-1, 0, 10, 1, 2)).toBe(1);
    expect(interp(5, 0, 10, 1, 2)).toBe(1.5);
    expect(interp(11, 0, 10, 1, 2)).toBe(2);
  });

  it('linear and one_cycle lr lambdas', () => {
    const lin = lrLambda(300, 0.01);
    expect(lin(0)).toBe(1);
    expect(lin(300)).toBeCloseTo(0.01, 15);
    expect(lin(150)).toBeCloseTo(0.505, 15);
    const cos = lrLambda(300, 0.01, true);
    expect(cos(0)).toBeCloseTo(1, 15);
    expect(cos(150)).toBeCloseTo(0.505, 15);
    expect(cos(75)).toBeCloseTo(((1 - Math.SQRT1_2) / 2) * -0.99 + 1, 12);
    expect(cos(300)).toBeCloseTo(0.01, 15);
  });
});

describe('TrainSchedule (train.py warmup and LambdaLR)', () => {
  // nb = 10 batches of 16 for 300 epochs: nw = max(30, 100) = 100, nominal accumulate 4
  const s = new TrainSchedule({ hyp, epochs: 300, batchesPerEpoch: 10, batchSize: 16 });

  it('starts warmup with bias lr 0.1, other lr 0, momentum 0.8, accumulate 1', () => {
    const it0 = s.settings(0, 0);
    expect(it0).toEqual({ ni: 0, lr: { bias: 0.1, weight: 0, bn: 0 }, momentum: 0.8, accumulate: 1, warmup: true });
  });

  it('interpolates halfway through warmup towards lr0 * lf(epoch)', () => {
    const mid = s.settings(5, 0); // ni = 50, lf(5) = (1 - 5/300) * 0.99 + 0.01
    const target = 0.01 * ((1 - 5 / 300) * 0.99 + 0.01);
    expect(mid.ni).toBe(50);
    expect(mid.lr.bias).toBeCloseTo(0.1 + 0.5 * (target - 0.1), 15);
    expect(mid.lr.weight).toBeCloseTo(0.5 * target, 15);
    expect(mid.lr.bn).toBe(mid.lr.weight);
    expect(mid.momentum).toBeCloseTo(0.8685, 15);
    expect(mid.accumulate).toBe(2); // round(2.5) = 2
    expect(s.settings(7, 5).accumulate).toBe(3); // ni 75: round(3.25)
  });

  it('ends warmup at lr0 * lf(epoch) and then follows LambdaLR per epoch', () => {
    const end = s.settings(10, 0); // ni = 100 = nw
    expect(end.warmup).toBe(true);
    expect(end.lr.bias).toBeCloseTo(0.01 * ((1 - 10 / 300) * 0.99 + 0.01), 15);
    expect(end.momentum).toBeCloseTo(0.937, 15);
    const after = s.settings(10, 1);
    expect(after.warmup).toBe(false);
    expect(after.lr).toEqual(end.lr);
    expect(after.accumulate).toBe(4);
    expect(s.settings(299, 9).lr.weight).toBeCloseTo(0.01 * ((1 - 299 / 300) * 0.99 + 0.01), 15);
  });

  it('steps the optimizer when ni - last_opt_step >= accumulate', () => {
    const run = new TrainSchedule({ hyp, epochs: 300, batchesPerEpoch: 10, batchSize: 16 });
    const stepped: number[] = [];
    for (let epoch = 0; epoch < 13; epoch++) {
      for (let i = 0; i < 10; i++) {
        const st = run.settings(epoch, i);
        if (run.shouldStep(st)) stepped.push(st.ni);
      }
    }
    // warmup: accumulate 1 until ni 16 (round(1 + 3 ni / 100) = 1 while ni < 16.67)
    expect(stepped.slice(0, 17)).toEqual([...Array(17).keys()]);
    // after warmup, every 4th iteration
    const late = stepped.filter((n) => n > 100);
    late.slice(1).forEach((n, k) => expect(n - (late[k] ?? 0)).toBe(4));
    expect(late.length).toBeGreaterThan(5);
  });
});
