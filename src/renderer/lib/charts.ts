/**
 * Chart.js set-up shared by every chart of the app: the registered parts (tree-shaken), theme
 * colours read from the CSS variables (so charts follow the light or dark theme), a categorical palette,
 * and downloads (PNG of a chart, CSV of a table) through Blob/data URLs, which the CSP allows.
 */
import {
  Chart,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  ScatterController,
  Tooltip,
  type ChartDataset,
  type TooltipItem,
} from 'chart.js';
import { THEME_EVENT } from './theme.js';

Chart.register(LineController, ScatterController, LineElement, PointElement, LinearScale, Tooltip, Legend, Filler);

export { Chart };

/** A point of a chart series; `id` ties it back to a run for tooltips. */
export interface XY {
  readonly x: number;
  readonly y: number;
  readonly id?: number;
}

/** A series as the chart components take it: plain data, copied before Chart.js sees it. */
export type Series = ChartDataset<'line', XY[]>;

/** How one axis is titled and formatted. */
export interface AxisSpec {
  readonly title: string;
  readonly min?: number;
  readonly max?: number;
  /** Tooltip text of a value (ticks use Chart.js's range-aware formatting). */
  readonly format?: (value: number) => string;
  /** Integer ticks only (epochs). */
  readonly integer?: boolean;
  /** Unit written after a value in tooltips ('s', 'MB'); without one, the title goes before it. */
  readonly unit?: string;
}

/** A value as tooltips write it: '0.412 MB' with a unit, else 'epoch 3' (the axis title first). */
export function axisValueText(spec: AxisSpec, value: number): string {
  const text = spec.format
    ? spec.format(value)
    : spec.integer && !Number.isInteger(value)
      ? value.toFixed(2)
      : String(Number(value.toPrecision(4)));
  return spec.unit ? `${text} ${spec.unit}` : `${spec.title} ${text}`;
}

/** Tooltip lines of a hovered point. */
export type TooltipText = (item: TooltipItem<'line'>) => string | string[];

/** Colours of the current theme, read from the CSS variables of `styles.css`. */
export interface ThemeColours {
  readonly text: string;
  readonly muted: string;
  readonly border: string;
  readonly panel: string;
  readonly accent: string;
}

export function themeColours(): ThemeColours {
  const css = getComputedStyle(document.documentElement);
  const read = (name: string, fallback: string): string => css.getPropertyValue(name).trim() || fallback;
  return {
    text: read('--text', '#1c2330'),
    muted: read('--muted', '#5d6778'),
    border: read('--border', '#d9dee6'),
    panel: read('--panel', '#ffffff'),
    accent: read('--accent', '#2463eb'),
  };
}

/** Calls `listener` when the OS or the theme toggle switches light and dark; returns the unsubscribe. */
export function onThemeChange(listener: () => void): () => void {
  const query = window.matchMedia('(prefers-color-scheme: dark)');
  query.addEventListener('change', listener);
  window.addEventListener(THEME_EVENT, listener);
  return () => {
    query.removeEventListener('change', listener);
    window.removeEventListener(THEME_EVENT, listener);
  };
}

/**
 * A categorical palette readable on both themes (Tableau 10 hues), so series keep their colour
 * between light and dark.
 */
const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#59a14f', '#b07aa1', '#76b7b2', '#edc948', '#ff9da7', '#9c755f'];

export function seriesColour(index: number): string {
  return PALETTE[((index % PALETTE.length) + PALETTE.length) % PALETTE.length] ?? '#4e79a7';
}

/** Fixed colours of the three YOLOv5 losses, the same on every chart. */
export const LOSS_COLOURS = { box: '#4e79a7', obj: '#f28e2b', cls: '#59a14f' } as const;

/** A line series from points, with the app's defaults (thin line, small points, no fill). */
export function lineSeries(label: string, data: XY[], colour: string, extra: Partial<Series> = {}): Series {
  return {
    label,
    data,
    borderColor: colour,
    backgroundColor: colour,
    borderWidth: 2,
    pointRadius: data.length > 60 ? 0 : 2,
    pointHoverRadius: 4,
    tension: 0,
    fill: false,
    ...extra,
  };
}

/** Megabytes for memory axes (charts show MB; tables use `bytes`). */
export const toMB = (n: number): number => n / 1e6;

/** Starts a browser download of `blob` named `file`. */
export function downloadBlob(blob: Blob, file: string): void {
  const url = URL.createObjectURL(blob);
  downloadUrl(url, file);
  // Revoke after the click has been handled.
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** Starts a download of a URL (blob: or data:). */
export function downloadUrl(url: string, file: string): void {
  const a = document.createElement('a');
  a.href = url;
  a.download = file;
  a.rel = 'noopener';
  document.body.appendChild(a);
  a.click();
  a.remove();
}

/** Downloads text as a CSV file. */
export function downloadCsv(csv: string, file: string): void {
  downloadBlob(new Blob([csv], { type: 'text/csv;charset=utf-8' }), file);
}

/** A file-name-safe slug of a title: 'mAP per epoch' -> 'map-per-epoch'. */
export function slug(text: string): string {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '') || 'chart'
  );
}
