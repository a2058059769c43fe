/**
 * `model.val` with saveTxt + saveConf (YOLOv5 val.py --save-txt --save-conf): the label files it
 * writes, read back as predictions, give val's own mAP50 and mAP50-95 (issue 15's check; the
 * pre-label files differ by design, see test/unit/prelabel/map.test.ts). Also: validate()'s
 * per-image callback hands over, in plan order, exactly the predictions the metrics came from;
 * an image without predictions gets no file; existing files are refused before evaluating,
 * replaced (or removed) with force.
 */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ModelValResult } from '../../../src/shared/contract.js';
import { loadDataConfig } from '../../../src/main/engine/data/config.js';
import { scanImage, type ImageScan } from '../../../src/main/engine/data/scan.js';
import { planValBatches } from '../../../src/main/engine/data/val-loader.js';
import { Evaluator } from '../../../src/main/engine/eval/evaluator.js';
import { type ValImagePredictions, validate } from '../../../src/main/engine/eval/validate.js';
import { modelStride } from '../../../src/main/engine/infer/detect.js';
import { labelLine } from '../../../src/main/engine/infer/label-format.js';
import { labelFileFor } from '../../../src/main/engine/infer/prelabel.js';
import { instantiateModel, resolveModelSource } from '../../../src/main/engine/model/source.js';
import { initBackend } from '../../../src/main/engine/tf/backend.js';
import { resolveDataPaths } from '../../../src/main/paths.js';
import { createService, type Service } from '../../../src/main/service/service.js';
import { evaluateLabelFiles } from '../../helpers/labels-readback.js';
import { tempDir } from '../../helpers/service.js';
import { describeShared, shared } from '../../helpers/shared.js';

const IMAGES = 32;
const IMG = 320;
const CONF = 0.001;
const IOU = 0.6;
const BATCH = 8;
/**
 * Files against val: '%g' keeps 6 significant digits, so a box corner moves by at most 5e-7 of
 * the image side (an IoU by ~1e-6) and a confidence's 7th digit is lost (two predictions of
 * different images may tie, or keep a tie, in the other order). 1e-4 bounds what that can do to
 * an AP over these 32 images. Measured (printed): mAP50 and mAP50-95 equal to the last bit at
 * conf 0.001 and 0.5; P and R (read at the best-F1 confidence) 1e-7 apart.
 */
const TOLERANCE = 1e-4;

describeShared('model.val --save-txt --save-conf: the files read back give val’s mAP (coco128, yolov5n)', () => {
  let service: Service;
  let dir: string;
  let yaml: string;
  let scans: ImageScan[];
  let val: ModelValResult;
  /** validate() on this thread, what its callback received, and the plan's image order. */
  let direct: Awaited<ReturnType<typeof validate>>;
  const seen: ValImagePredictions[] = [];
  let planned: string[];
  /** Ground truth as val.py scores against it (from the callback). */
  const valTruth = new Map<string, ValImagePredictions['labels']>();
  const truthOf = (x: ImageScan) => valTruth.get(x.imageFile)!;
  const weights = shared('weights', 'yolov5n.pt');
  const out = () => path.join(dir, 'out');
  const fileOf = (image: string) => labelFileFor(out(), image);

  const callVal = (extra: Record<string, unknown>) =>
    service.call('model.val', {
      weights,
      data: yaml,
      imgSize: IMG,
      batch: BATCH,
      iou: IOU,
      workers: 2,
      saveTxt: true,
      saveConf: true,
      out: out(),
      ...extra,
    });

  beforeAll(async () => {
    dir = tempDir('freezelab-val-save-');
    const imagesDir = shared('data', 'coco128', 'images', 'train2017');
    const files = readdirSync(imagesDir)
      .filter((f) => f.endsWith('.jpg'))
      .sort()
      .slice(0, IMAGES)
      .map((f) => path.join(imagesDir, f));
    // The first 32 coco128 images as the val split of a data YAML (as test/unit/prelabel/map.test.ts).
    const list = path.join(dir, 'subset.txt');
    writeFileSync(list, `${files.join('\n')}\n`);
    const names = readFileSync(shared('data', 'coco128', 'coco128.yaml'), 'utf8').split('names:')[1]!;
    yaml = path.join(dir, 'subset.yaml');
    writeFileSync(yaml, `path: ${dir}\ntrain: ${list}\nval: ${list}\nnames:${names}`);
    scans = await Promise.all(files.map((f) => scanImage(f, 80, 'header')));
    service = createService({
      host: 'cli',
      runJobs: false,
      paths: resolveDataPaths({ dataDir: path.join(dir, 'home') }, {}),
      loadBackend: () => initBackend({ prefer: 'wasm' }),
    });
    const r = await callVal({ conf: CONF });
    if (!r.ok) throw new Error(r.error.message);
    val = r.value;
    // The same validation on this thread, through validate()'s per-image callback.
    await initBackend({ prefer: 'wasm' });
    const { model } = instantiateModel(await resolveModelSource(weights));
    try {
      direct = await validate(model, {
        data: await loadDataConfig(yaml),
        images: scans,
        imgSize: IMG,
        batchSize: BATCH,
        conf: CONF,
        iou: IOU,
        onImage: (p) => {
          // Copies: the arrays are validate()'s own.
          seen.push({
            ...p,
            boxes: p.boxes.slice(),
            conf: p.conf.slice(),
            cls: p.cls.slice(),
            labels: { boxes: p.labels.boxes.slice(), cls: p.labels.cls.slice() },
          });
        },
      });
      planned = planValBatches(scans, { imgSize: IMG, batchSize: BATCH, stride: modelStride(model) }).flatMap((b) =>
        b.images.map((im) => im.imageFile),
      );
    } finally {
      model.dispose();
    }
    for (const p of seen) valTruth.set(p.file, p.labels);
  }, 300_000);

  afterAll(async () => {
    await service?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("writes OUT/labels/STEM.txt per image with predictions, val.py's lines with confidences", () => {
    const s = val.saved!;
    expect(s).toMatchObject({ dir: out(), labelsDir: path.join(out(), 'labels'), saveConf: true });
    expect(val.images).toBe(IMAGES);
    // conf 0.001 leaves every one of these images some predictions.
    expect([s.labelFiles, s.imagesWithoutPredictions]).toEqual([IMAGES, 0]);
    expect(readdirSync(s.labelsDir).sort()).toEqual(scans.map((x) => path.basename(fileOf(x.imageFile))).sort());
    let lines = 0;
    for (const x of scans) {
      const text = readFileSync(fileOf(x.imageFile), 'utf8');
      expect(text.endsWith('\n')).toBe(true);
      const rows = text.trimEnd().split('\n');
      expect(rows.length).toBeLessThanOrEqual(300); // val.py's max_det
      for (const row of rows) expect(row).toMatch(/^\d+( [0-9.e+-]+){5}$/);
      lines += rows.length;
    }
    expect(lines).toBe(s.predictions);
    expect(s.predictions).toBeGreaterThan(IMAGES * 10);
  });

  it("validate()'s callback: every image once, in plan order, with the predictions the metrics used", () => {
    expect(seen.map((p) => p.file)).toEqual(planned);
    const byFile = new Map(scans.map((x) => [x.imageFile, x]));
    const ev = new Evaluator({ nc: 80 });
    for (const p of seen) {
      const x = byFile.get(p.file)!;
      expect(p.shape).toEqual([x.height, x.width]);
      expect([p.boxes.length, p.conf.length, p.cls.length]).toEqual([4 * p.count, p.count, p.count]);
      expect(Array.from(p.labels.cls)).toEqual(x.rows.map((r) => r.cls));
      ev.add({ boxes: p.boxes, conf: p.conf, cls: p.cls }, p.labels);
    }
    // Evaluated in the callback's order, its predictions and labels are validate()'s metrics.
    const again = ev.result();
    expect([again.map50, again.map50_95, again.precision, again.recall]).toEqual([
      direct.map50,
      direct.map50_95,
      direct.precision,
      direct.recall,
    ]);
    // On this thread or on two replica threads: the same metrics as the service's run.
    expect(direct.map50_95).toBeCloseTo(val.map50_95, 6);
    expect(direct.map50).toBeCloseTo(val.map50, 6);
  });

  it("each file is what val.py's save_one_txt makes of the image's predictions", () => {
    let same = 0;
    for (const p of seen) {
      const [h, w] = p.shape;
      let expected = '';
      for (let i = 0; i < p.count; i++) {
        const b = p.boxes;
        expected += `${labelLine(p.cls[i]!, [b[4 * i]!, b[4 * i + 1]!, b[4 * i + 2]!, b[4 * i + 3]!], w, h, p.conf[i]!)}\n`;
      }
      const written = readFileSync(fileOf(p.file), 'utf8');
      expect(written.split('\n').length, p.file).toBe(expected.split('\n').length);
      if (written === expected) same++;
    }
    // The service ran on two replica threads, this on one: the same bits (WASM is deterministic).
    expect(same).toBe(IMAGES);
  });

  it("read back as predictions, gives val's mAP50 and mAP50-95 up to the files' 6 significant digits", () => {
    const files = evaluateLabelFiles(scans, fileOf, { nc: 80, missingIsEmpty: true, truthOf });
    // Against the label rows times the image size instead, the mAP moves by val.py's own way of
    // carrying labels through the letterbox (one gain for both axes), not by the files: printed.
    const rows = evaluateLabelFiles(scans, fileOf, { nc: 80, missingIsEmpty: true });
    console.log(
      `val mAP50 ${val.map50} mAP50-95 ${val.map50_95} P ${val.precision} R ${val.recall}; files mAP50 ` +
        `${files.map50} mAP50-95 ${files.map50_95} P ${files.precision} R ${files.recall}; |diff| ` +
        `${Math.abs(files.map50 - val.map50)} / ${Math.abs(files.map50_95 - val.map50_95)}; against label ` +
        `rows x size: ${rows.map50} / ${rows.map50_95}`,
    );
    expect(val.map50).toBeGreaterThan(0.3);
    expect(files.instances).toBe(val.instances);
    expect(Math.abs(files.map50 - val.map50)).toBeLessThan(TOLERANCE);
    expect(Math.abs(files.map50_95 - val.map50_95)).toBeLessThan(TOLERANCE);
    // P and R are read at the best-F1 confidence, which the files carry to 6 digits.
    expect(Math.abs(files.precision - val.precision)).toBeLessThan(TOLERANCE);
    expect(Math.abs(files.recall - val.recall)).toBeLessThan(TOLERANCE);
  });

  it('refuses existing label files before evaluating; with force replaces them, and removes those of images now without predictions', async () => {
    const sample = fileOf(scans[0]!.imageFile);
    const before = readFileSync(sample, 'utf8');
    const mtime = statSync(sample).mtimeMs;
    const t0 = performance.now();
    const refused = await callVal({ conf: CONF });
    expect(refused.ok).toBe(false);
    if (refused.ok) return;
    expect(refused.error.code).toBe('conflict');
    expect(refused.error.message).toContain(`${IMAGES} of the ${IMAGES} label files to write already exist in`);
    expect(refused.error.message).toContain('nothing was evaluated');
    expect(refused.error.hint).toMatch(/force/);
    expect(performance.now() - t0).toBeLessThan(val.seconds * 1000); // no evaluation
    expect([readFileSync(sample, 'utf8'), statSync(sample).mtimeMs]).toEqual([before, mtime]);

    // conf 0.5: some images have no prediction left; their old files go, the others are replaced.
    const forced = await callVal({ conf: 0.5, force: true });
    if (!forced.ok) throw new Error(forced.error.message);
    const s = forced.value.saved!;
    console.log(
      `conf 0.5: ${s.labelFiles} files, ${s.imagesWithoutPredictions} images without predictions; ` +
        `val mAP50 ${forced.value.map50} mAP50-95 ${forced.value.map50_95}`,
    );
    expect(s.imagesWithoutPredictions).toBeGreaterThan(0);
    expect(s.labelFiles + s.imagesWithoutPredictions).toBe(IMAGES);
    expect(readdirSync(s.labelsDir)).toHaveLength(s.labelFiles);
    // The missing files are exactly the images without predictions: read back as "none", the
    // files give this run's metrics.
    const files = evaluateLabelFiles(scans, fileOf, { nc: 80, missingIsEmpty: true, truthOf });
    console.log(`conf 0.5 files: ${files.map50} / ${files.map50_95}`);
    expect(Math.abs(files.map50 - forced.value.map50)).toBeLessThan(TOLERANCE);
    expect(Math.abs(files.map50_95 - forced.value.map50_95)).toBeLessThan(TOLERANCE);
    for (const x of scans) {
      if (!existsSync(fileOf(x.imageFile))) continue;
      const rows = readFileSync(fileOf(x.imageFile), 'utf8').trim().split('\n');
      for (const row of rows) expect(Number(row.split(' ')[5])).toBeGreaterThanOrEqual(0.5);
    }
  }, 300_000);

  it('refuses two images that would share a label file, and option combinations that mean nothing', async () => {
    const a = path.join(dir, 'twins', 'a');
    const b = path.join(dir, 'twins', 'b');
    mkdirSync(a, { recursive: true });
    mkdirSync(b, { recursive: true });
    copyFileSync(scans[0]!.imageFile, path.join(a, 'x.jpg'));
    copyFileSync(scans[1]!.imageFile, path.join(b, 'x.jpg'));
    const list = path.join(dir, 'twins', 'list.txt');
    writeFileSync(list, `${path.join(a, 'x.jpg')}\n${path.join(b, 'x.jpg')}\n`);
    const twins = path.join(dir, 'twins', 'twins.yaml');
    writeFileSync(twins, readFileSync(yaml, 'utf8').replace(/^val: .*$/m, `val: ${list}`));
    const twinsOut = path.join(dir, 'twins-out');
    const r = await callVal({ data: twins, out: twinsOut });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('conflict');
      expect(r.error.message).toContain(`would both be saved as ${path.join(twinsOut, 'labels', 'x.txt')}`);
    }
    const bad = await service.call('model.val', { weights, data: yaml, saveConf: true });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error.code).toBe('invalid-input');
  });
});
