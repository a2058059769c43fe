import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { boxIou } from '../../../src/main/engine/eval/box.js';
import { checkImgSize, detectImage, letterboxAsOpenCv, resizeAsOpenCv } from '../../../src/main/engine/infer/detect.js';
import type { RgbImage } from '../../../src/main/engine/infer/resize.js';
import type { YoloModel } from '../../../src/main/engine/model/forward.js';
import { instantiateModel, resolveModelSource } from '../../../src/main/engine/model/source.js';
import { initBackend } from '../../../src/main/engine/tf/backend.js';
import { describeShared, shared } from '../../helpers/shared.js';

const img = (w: number, h: number, f: (x: number, y: number, c: number) => number): RgbImage => {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) data[(y * w + x) * 3 + c] = f(x, y, c);
  return { data, width: w, height: h, channels: 3 };
};

describe('OpenCV-faithful resize and letterbox', () => {
  it('an exact 2x shrink averages 2x2 cells rounding half up, as OpenCV resizeAreaFast', () => {
    // Cell sums 2, 6, 10: (s + 2) >> 2 gives 1, 2, 3 (round-half-even of s/4 would give 0, 2, 2).
    const src = img(6, 2, (x) => [0, 2, 1, 2, 2, 3][x]!);
    for (const interp of ['linear', 'area'] as const) {
      const r = resizeAsOpenCv(src, 3, 1, interp);
      expect(Array.from(r.data.filter((_, i) => i % 3 === 0))).toEqual([1, 2, 3]);
    }
  });
  it('other whole factors use sum * (1/area) rounded half to even', () => {
    // 3x1 cells: sums 3 and 4 -> 1 and round(1.333) = 1; 3x3 of 5s -> 5.
    const r = resizeAsOpenCv(
      img(6, 1, (x) => [1, 1, 1, 2, 1, 1][x]!),
      2,
      1,
      'area',
    );
    expect(Array.from(r.data.filter((_, i) => i % 3 === 0))).toEqual([1, 1]);
    expect(
      new Set(
        resizeAsOpenCv(
          img(9, 9, () => 5),
          3,
          3,
          'area',
        ).data,
      ),
    ).toEqual(new Set([5]));
  });
  it('letterbox pads to a stride multiple and reports the ratio against the original', () => {
    const lb = letterboxAsOpenCv(
      img(1280, 720, () => 9),
      { newShape: 640, auto: true, stride: 32 },
    );
    expect([lb.image.width, lb.image.height, lb.top, lb.ratio[0]]).toEqual([640, 384, 12, 0.5]);
    expect(lb.image.data[0]).toBe(114);
    expect(lb.image.data[(12 * 640 + 3) * 3]).toBe(9);
  });
  it('check_img_size rounds up to the stride', () => {
    expect([checkImgSize(640, 32), checkImgSize(300, 32), checkImgSize(1, 64)]).toEqual([640, 320, 64]);
  });
});

interface RefDet {
  cls: number;
  conf: number;
  xyxy: number[];
}
interface RefImage {
  letterboxed_shape: [number, number];
  original_shape: [number, number];
  detections: RefDet[];
}

describeShared('detectImage vs YOLOv5 detect.py (yolov5n.pt, img 640)', () => {
  let model: YoloModel;
  let names: readonly string[];
  const ref = JSON.parse(readFileSync(shared('reference', 'detections-640.json'), 'utf8')) as Record<string, RefImage>;
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' });
    const src = await resolveModelSource(shared('weights', 'yolov5n.pt'));
    names = src.names;
    model = instantiateModel(src).model;
  });
  afterAll(() => model.dispose());

  for (const file of ['bus.jpg', 'zidane.jpg']) {
    it(`reproduces ${file}: count, classes, boxes (IoU >= 0.98), conf within 0.01, shapes`, async () => {
      const expected = ref[file]!;
      const before = tf.memory().numTensors;
      const r = await detectImage(model, names, shared('reference', 'images', file));
      expect(tf.memory().numTensors).toBe(before);
      expect(r.inputShape).toEqual(expected.letterboxed_shape);
      expect(r.originalShape).toEqual(expected.original_shape);
      expect(r.detections.map((d) => d.cls).sort()).toEqual(expected.detections.map((d) => d.cls).sort());
      const used = new Set<number>();
      for (const e of expected.detections) {
        // Match each reference box to the best unused detection of its class.
        let best = -1;
        let bestIou = 0;
        r.detections.forEach((d, i) => {
          if (d.cls !== e.cls || used.has(i)) return;
          const iou = boxIou(e.xyxy, [...d.xyxy])[0]!;
          if (iou > bestIou) [best, bestIou] = [i, iou];
        });
        expect(best, `no match for ${JSON.stringify(e)}`).toBeGreaterThanOrEqual(0);
        used.add(best);
        expect(bestIou).toBeGreaterThanOrEqual(0.98);
        expect(Math.abs(r.detections[best]!.conf - e.conf)).toBeLessThan(0.01);
        expect(r.detections[best]!.name).toBe(names[e.cls]);
      }
    });
  }
});
