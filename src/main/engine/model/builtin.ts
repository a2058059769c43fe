/**
 * Built-in YOLOv5 v6.0+ architectures (n, s, m, l, x) as data, so the product never needs the
 * YAML files. Same layer table as the official models/yolov5*.yaml (v6.0 backbone and head).
 */
import type { LayerRow, ModelYaml } from './yaml.js';

/** Built-in model sizes. */
export type BuiltinModel = 'yolov5n' | 'yolov5s' | 'yolov5m' | 'yolov5l' | 'yolov5x';

/** depth_multiple / width_multiple of each size (official YAML values). */
export const BUILTIN_MULTIPLES: Readonly<Record<BuiltinModel, { depth: number; width: number }>> = {
  yolov5n: { depth: 0.33, width: 0.25 },
  yolov5s: { depth: 0.33, width: 0.5 },
  yolov5m: { depth: 0.67, width: 0.75 },
  yolov5l: { depth: 1.0, width: 1.0 },
  yolov5x: { depth: 1.33, width: 1.25 },
};

/** Official COCO anchors in pixels: P3/8, P4/16, P5/32. */
export const YOLOV5_ANCHORS: readonly (readonly number[])[] = [
  [10, 13, 16, 30, 33, 23],
  [30, 61, 62, 45, 59, 119],
  [116, 90, 156, 198, 373, 326],
];

const row = (from: number | number[], number: number, module: string, args: LayerRow['args']): LayerRow => ({
  from,
  number,
  module,
  args,
});

/** YOLOv5 v6.0 backbone. */
const BACKBONE: readonly LayerRow[] = [
  row(-1, 1, 'Conv', [64, 6, 2, 2]), // 0-P1/2
  row(-1, 1, 'Conv', [128, 3, 2]), // 1-P2/4
  row(-1, 3, 'C3', [128]),
  row(-1, 1, 'Conv', [256, 3, 2]), // 3-P3/8
  row(-1, 6, 'C3', [256]),
  row(-1, 1, 'Conv', [512, 3, 2]), // 5-P4/16
  row(-1, 9, 'C3', [512]),
  row(-1, 1, 'Conv', [1024, 3, 2]), // 7-P5/32
  row(-1, 3, 'C3', [1024]),
  row(-1, 1, 'SPPF', [1024, 5]), // 9
];

/** YOLOv5 v6.0 head. */
const HEAD: readonly LayerRow[] = [
  row(-1, 1, 'Conv', [512, 1, 1]),
  row(-1, 1, 'nn.Upsample', ['None', 2, 'nearest']),
  row([-1, 6], 1, 'Concat', [1]), // cat backbone P4
  row(-1, 3, 'C3', [512, false]), // 13
  row(-1, 1, 'Conv', [256, 1, 1]),
  row(-1, 1, 'nn.Upsample', ['None', 2, 'nearest']),
  row([-1, 4], 1, 'Concat', [1]), // cat backbone P3
  row(-1, 3, 'C3', [256, false]), // 17 (P3/8-small)
  row(-1, 1, 'Conv', [256, 3, 2]),
  row([-1, 14], 1, 'Concat', [1]), // cat head P4
  row(-1, 3, 'C3', [512, false]), // 20 (P4/16-medium)
  row(-1, 1, 'Conv', [512, 3, 2]),
  row([-1, 10], 1, 'Concat', [1]), // cat head P5
  row(-1, 3, 'C3', [1024, false]), // 23 (P5/32-large)
  row([17, 20, 23], 1, 'Detect', ['nc', 'anchors']), // Detect(P3, P4, P5)
];

/** True when `name` is a built-in model name. */
export function isBuiltinModel(name: string): name is BuiltinModel {
  return Object.hasOwn(BUILTIN_MULTIPLES, name);
}

/** The built-in config for a size, as if read from the official YAML (nc 80 unless given). */
export function builtinModelYaml(name: BuiltinModel, nc = 80): ModelYaml {
  const m = BUILTIN_MULTIPLES[name];
  return {
    source: `built-in ${name}`,
    nc,
    depthMultiple: m.depth,
    widthMultiple: m.width,
    anchors: YOLOV5_ANCHORS.map((l) => [...l]),
    backbone: BACKBONE,
    head: HEAD,
  };
}
