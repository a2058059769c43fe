/**
 * Procedural detection scenes for the built-in demo: shapes (circle, square, triangle) on
 * textured backgrounds, drawn into RGB pixels with their YOLO labels. Two related domains share
 * the classes but not the look: domain A ("lab bench") has light, paper-like backgrounds with
 * saturated shapes; domain B ("field camera") has dark grainy backgrounds, muted low-contrast
 * shapes with a colour cast, and clutter: the kind of shift a model pretrained on A must adapt to.
 */

import { mulberry32 } from '../../shared/random.js';

export const DEMO_CLASSES = ['circle', 'square', 'triangle'] as const;
export type DemoDomain = 'A' | 'B';

export interface Scene {
  readonly size: number;
  /** RGB, HWC. */
  readonly pixels: Uint8Array;
  /** YOLO rows: class cx cy w h, normalised. */
  readonly labels: readonly (readonly [number, number, number, number, number])[];
}

const clamp = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));

function hsvToRgb(h: number, s: number, v: number): [number, number, number] {
  const f = (n: number) => {
    const k = (n + h * 6) % 6;
    return v * (1 - s * Math.max(0, Math.min(k, 4 - k, 1)));
  };
  return [f(5) * 255, f(3) * 255, f(1) * 255];
}

function paintBackground(px: Uint8Array, size: number, domain: DemoDomain, rand: () => number): void {
  const base = domain === 'A' ? [214, 208, 192] : [52, 60, 56];
  const period = 6 + rand() * 10;
  const angle = rand() * Math.PI;
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const waveAmp = domain === 'A' ? 10 : 7;
  const grainAmp = domain === 'A' ? 16 : 44;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const texture = Math.sin(((x * cos + y * sin) / period) * Math.PI) * waveAmp + (rand() - 0.5) * grainAmp;
      const i = (y * size + x) * 3;
      for (let c = 0; c < 3; c++) px[i + c] = clamp((base[c] ?? 0) + texture);
    }
  }
}

/** Fills the pixels inside a shape with a colour (light shading keeps edges honest). */
function paintShape(
  px: Uint8Array,
  size: number,
  cls: number,
  box: { x0: number; y0: number; w: number; h: number },
  colour: readonly number[],
  rand: () => number,
  grain: number,
): void {
  const { x0, y0, w, h } = box;
  const cx = x0 + w / 2;
  const cy = y0 + h / 2;
  for (let y = Math.max(0, Math.floor(y0)); y < Math.min(size, Math.ceil(y0 + h)); y++) {
    for (let x = Math.max(0, Math.floor(x0)); x < Math.min(size, Math.ceil(x0 + w)); x++) {
      const u = (x + 0.5 - cx) / (w / 2);
      const v = (y + 0.5 - cy) / (h / 2);
      const inside =
        cls === 0
          ? u * u + v * v <= 1
          : cls === 1
            ? Math.abs(u) <= 1 && Math.abs(v) <= 1
            : v <= 1 && v >= -1 && Math.abs(u) <= (v + 1) / 2;
      if (!inside) continue;
      const shade = 1 - 0.12 * v;
      const i = (y * size + x) * 3;
      for (let c = 0; c < 3; c++) px[i + c] = clamp((colour[c] ?? 0) * shade + (rand() - 0.5) * grain);
    }
  }
}

/** One scene of `domain`: 1-4 shapes that do not overlap much, deterministic per seed. */
export function drawScene(domain: DemoDomain, seed: number, size: number): Scene {
  const rand = mulberry32(seed);
  const px = new Uint8Array(size * size * 3);
  paintBackground(px, size, domain, rand);
  const labels: [number, number, number, number, number][] = [];
  const boxes: { x0: number; y0: number; w: number; h: number }[] = [];
  if (domain === 'B') {
    // Clutter: small dark and light specks that are not objects.
    for (let k = 0; k < 6; k++) {
      const s = 2 + rand() * 4;
      const x0 = rand() * (size - s);
      const y0 = rand() * (size - s);
      const g = rand() < 0.5 ? 25 : 110;
      paintShape(px, size, Math.floor(rand() * 2), { x0, y0, w: s, h: s }, [g, g, g], rand, 10);
    }
  }
  const count = 1 + Math.floor(rand() * 4);
  for (let n = 0; n < count * 4 && labels.length < count; n++) {
    const cls = Math.floor(rand() * DEMO_CLASSES.length);
    const w = size * (0.12 + rand() * 0.22);
    const h = cls === 1 || cls === 0 ? w * (0.85 + rand() * 0.3) : w * (0.8 + rand() * 0.3);
    const x0 = rand() * (size - w);
    const y0 = rand() * (size - h);
    const overlaps = boxes.some((b) => {
      const ix = Math.max(0, Math.min(b.x0 + b.w, x0 + w) - Math.max(b.x0, x0));
      const iy = Math.max(0, Math.min(b.y0 + b.h, y0 + h) - Math.max(b.y0, y0));
      return ix * iy > 0.15 * Math.min(b.w * b.h, w * h);
    });
    if (overlaps) continue;
    const hue = rand();
    const colour =
      domain === 'A'
        ? hsvToRgb(hue, 0.75 + rand() * 0.25, 0.75 + rand() * 0.25)
        : hsvToRgb(hue, 0.25 + rand() * 0.25, 0.45 + rand() * 0.25).map((c, i) => c + [18, 6, -12][i]!);
    paintShape(px, size, cls, { x0, y0, w, h }, colour, rand, domain === 'A' ? 8 : 30);
    boxes.push({ x0, y0, w, h });
    labels.push([cls, (x0 + w / 2) / size, (y0 + h / 2) / size, w / size, h / size]);
  }
  return { size, pixels: px, labels };
}
