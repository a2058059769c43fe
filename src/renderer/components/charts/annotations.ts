/**
 * Point annotations for scatter charts, drawn by a small Chart.js plugin (Chart.js 4 has no error
 * bars and the plugins that add them bring a new chart type): error bars (an interval on x, y or
 * both, with end caps) and a text label beside each point.
 */
import type { Chart, Plugin } from 'chart.js';
import type { XY } from '../../lib/charts.js';

/** A point with what to draw around it. Intervals are in data units. */
export interface AnnotatedXY extends XY {
  readonly label?: string;
  readonly xErr?: readonly [number, number] | null;
  readonly yErr?: readonly [number, number] | null;
}

const CAP_PX = 4;
const LABEL_H = 13;
const GAP_PX = 8;

interface Box {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

const overlaps = (a: Box, b: Box): boolean => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

/**
 * Where a label of width `w` goes beside the point (px, py): the first of above-right,
 * below-right, above-left, below-left, right and left that stays in the plot and clear of the
 * labels already placed; the least bad one otherwise.
 */
function placeLabel(
  w: number,
  px: number,
  py: number,
  area: { left: number; right: number; top: number; bottom: number },
  placed: readonly Box[],
): Box {
  const right = px + GAP_PX;
  const left = px - GAP_PX - w;
  const above = py - GAP_PX - LABEL_H;
  const below = py + GAP_PX;
  const middle = py - LABEL_H / 2;
  const candidates: Box[] = [
    [right, above],
    [right, below],
    [left, above],
    [left, below],
    [right + 6, middle],
    [left - 6, middle],
  ].map(([x, y]) => ({ x: x!, y: y!, w, h: LABEL_H }));
  const inside = (b: Box) => b.x >= area.left && b.x + b.w <= area.right && b.y >= area.top && b.y + b.h <= area.bottom;
  const cost = (b: Box) => (inside(b) ? 0 : 1) + placed.filter((p) => overlaps(p, b)).length * 2;
  return candidates.reduce((best, b) => (cost(b) < cost(best) ? b : best), candidates[0]!);
}

/**
 * The plugin; `onDrawn` receives how many error bars and which labels were drawn, so a chart can
 * say what it actually drew (charts redraw after the data changed).
 */
export function annotationPlugin(
  colours: () => { text: string; muted: string },
  onDrawn?: (bars: number, labels: readonly string[]) => void,
): Plugin<'line'> {
  return {
    id: 'freezelab-annotations',
    afterDatasetsDraw(chart: Chart<'line'>) {
      const { ctx, scales } = chart;
      const xs = scales.x;
      const ys = scales.y;
      if (!xs || !ys) return;
      const { text, muted } = colours();
      let bars = 0;
      const labels: string[] = [];
      const placed: Box[] = [];
      ctx.save();
      ctx.font = '11px system-ui, sans-serif';
      chart.data.datasets.forEach((dataset, i) => {
        if (!chart.isDatasetVisible(i)) return;
        for (const raw of dataset.data as unknown as AnnotatedXY[]) {
          const px = xs.getPixelForValue(raw.x);
          const py = ys.getPixelForValue(raw.y);
          ctx.strokeStyle = muted;
          ctx.lineWidth = 1.5;
          // A zero-width interval (identical figures over the seeds) has nothing to show.
          if (raw.yErr && raw.yErr[1] > raw.yErr[0]) {
            const [lo, hi] = raw.yErr.map((v) => ys.getPixelForValue(v)) as [number, number];
            ctx.beginPath();
            ctx.moveTo(px, lo);
            ctx.lineTo(px, hi);
            ctx.moveTo(px - CAP_PX, lo);
            ctx.lineTo(px + CAP_PX, lo);
            ctx.moveTo(px - CAP_PX, hi);
            ctx.lineTo(px + CAP_PX, hi);
            ctx.stroke();
            bars++;
          }
          if (raw.xErr && raw.xErr[1] > raw.xErr[0]) {
            const [lo, hi] = raw.xErr.map((v) => xs.getPixelForValue(v)) as [number, number];
            ctx.beginPath();
            ctx.moveTo(lo, py);
            ctx.lineTo(hi, py);
            ctx.moveTo(lo, py - CAP_PX);
            ctx.lineTo(lo, py + CAP_PX);
            ctx.moveTo(hi, py - CAP_PX);
            ctx.lineTo(hi, py + CAP_PX);
            ctx.stroke();
            bars++;
          }
          if (raw.label) {
            ctx.fillStyle = text;
            ctx.textBaseline = 'middle';
            const box = placeLabel(ctx.measureText(raw.label).width, px, py, chart.chartArea, placed);
            placed.push(box);
            ctx.textAlign = 'left';
            ctx.fillText(raw.label, box.x, box.y + LABEL_H / 2);
            labels.push(raw.label);
          }
        }
      });
      ctx.restore();
      onDrawn?.(bars, labels);
    },
  };
}

/** Axis limits that hold every point and interval, with a margin, for `AxisSpec.min/max`. */
export function paddedRange(values: readonly number[], floorAtZero = false): { min?: number; max?: number } {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return {};
  let lo = Math.min(...finite);
  let hi = Math.max(...finite);
  const span = hi - lo || Math.abs(hi) * 0.1 || 1;
  lo -= 0.12 * span;
  hi += 0.12 * span;
  if (floorAtZero) lo = Math.max(0, lo);
  return { min: lo, max: hi };
}
