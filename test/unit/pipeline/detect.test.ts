import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { boxIou } from '../../../src/main/engine/eval/box.js';
import { checkImgSize, detectImage } from '../../../src/main/engine/infer/detect.js';
import type { YoloModel } from '../../../src/main/engine/model/forward.js';
import { instantiateModel, resolveModelSource } from '../../../src/main/engine/model/source.js';
import { initBackend } from '../../../src/main/engine/tf/backend.js';
import { describeShared, shared } from '../../helpers/shared.js';

describe('checkImgSize', () => {
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
