/**
 * Predictions against labels count what val counts: on coco128 with yolov5n.pt at img 320, the
 * per-image TP flags at IoU 0.5 (every detection val keeps displayed) fed to val's AP computation
 * give val's own per-class AP50, P and R, and a display threshold keeps val's flags of its prefix.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadDataConfig, type DataConfig } from '../../../src/main/engine/data/config.js';
import { apPerClass } from '../../../src/main/engine/eval/ap.js';
import { compareImage } from '../../../src/main/engine/eval/disagreements.js';
import { predictSplit } from '../../../src/main/engine/eval/disagreements-run.js';
import { scanSplit, validate } from '../../../src/main/engine/eval/validate.js';
import type { YoloModel } from '../../../src/main/engine/model/forward.js';
import { instantiateModel, resolveModelSource } from '../../../src/main/engine/model/source.js';
import { initBackend } from '../../../src/main/engine/tf/backend.js';
import type { Detections } from '../../../src/main/engine/infer/nms.js';
import type { LoadedValImage } from '../../../src/main/engine/data/val-loader.js';
import { describeShared, shared } from '../../helpers/shared.js';

describeShared('predictions against labels on coco128 (yolov5n.pt, img 320)', () => {
  let model: YoloModel;
  let cfg: DataConfig;
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' });
    model = instantiateModel(await resolveModelSource(shared('weights', 'yolov5n.pt'))).model;
    cfg = await loadDataConfig(shared('data', 'coco128', 'coco128.yaml'));
  });
  afterAll(() => model.dispose());

  it("TP at 0.5 per image is val's matching: its flags reproduce val's AP50, P and R per class", async () => {
    const images = await scanSplit(cfg, 'val');
    const val = await validate(model, { data: cfg, images, imgSize: 320, batchSize: 16 });
    const seen: { dets: Detections; labels: LoadedValImage; correct: Uint8Array }[] = [];
    const progress: number[] = [];
    // Display threshold = val's conf: every detection val scores is displayed and counted.
    const r = await predictSplit(model, {
      data: cfg,
      images,
      imgSize: 320,
      conf: 0.001,
      onProgress: (done) => progress.push(done),
      onImage: (_im, dets, labels, c) => seen.push({ dets, labels, correct: c.correct }),
    });
    expect(r.images).toHaveLength(128);
    expect(progress.at(-1)).toBe(128);
    expect(r.totals.tp + r.totals.fn).toBe(val.instances);
    const flags: number[] = [];
    const conf: number[] = [];
    const predCls: number[] = [];
    const targetCls: number[] = [];
    for (const s of seen) {
      expect(s.correct.length).toBe(s.dets.count);
      flags.push(...s.correct);
      conf.push(...s.dets.scores);
      predCls.push(...s.dets.classes);
      targetCls.push(...s.labels.cls);
    }
    expect(flags.reduce((a, b) => a + b, 0)).toBe(r.totals.tp);
    expect(r.totals.tp + r.totals.fp).toBe(flags.length);
    const ap = apPerClass({ tp: Uint8Array.from(flags), nIou: 1, conf, predCls, targetCls });
    expect(ap.classes).toEqual(val.perClass.map((c) => c.classId));
    ap.classes.forEach((c, i) => {
      const v = val.perClass[i]!;
      expect(ap.ap[i]![0], `AP50 of class ${c}`).toBeCloseTo(v.ap50, 12);
      expect(ap.p[i], `P of class ${c}`).toBeCloseTo(v.precision, 12);
      expect(ap.r[i], `R of class ${c}`).toBeCloseTo(v.recall, 12);
    });
    console.log(
      `coco128 320: val mAP50 ${val.map50.toFixed(4)}; ${flags.length} detections, TP@0.5 ${r.totals.tp}, ` +
        `FN ${r.totals.fn}; ${r.seconds.toFixed(1)} s`,
    );

    // The default display threshold (0.25): each image's TP is val's flags over its detections >= 0.25.
    let tp25 = 0;
    let shown25 = 0;
    for (const s of seen) {
      const c = compareImage(
        { boxes: s.dets.boxes, conf: s.dets.scores, cls: s.dets.classes },
        { boxes: s.labels.boxes, cls: s.labels.cls },
        { conf: 0.25 },
      );
      let expected = 0;
      for (let d = 0; d < s.dets.count; d++) if (s.dets.scores[d]! >= 0.25) expected += s.correct[d]!;
      expect(c.tp).toBe(expected);
      tp25 += c.tp;
      shown25 += c.shown;
    }
    expect(tp25).toBeGreaterThan(300); // yolov5n finds a good part of coco128's 929 labels at 0.25
    expect(tp25).toBeLessThan(val.instances);
    console.log(
      `coco128 320 at conf 0.25: ${shown25} predictions, TP ${tp25}, FP ${shown25 - tp25}, FN ${val.instances - tp25}`,
    );
  }, 400_000);
});
