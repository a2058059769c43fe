/** Text tables for CLI commands (numbers are formatted by src/shared/format.ts). */
export { bytes, compactList, thousands } from '../../shared/format.js';

/** Renders rows as aligned columns; `align` per column, 'r' right-aligns. */
export function table(header: readonly string[], rows: readonly (readonly string[])[], align: string): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (align[i] === 'r' ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
