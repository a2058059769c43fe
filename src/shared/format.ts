/** Number formatting shared by the interface and the CLI (pure). */
export const thousands = (n: number): string => Math.round(n).toLocaleString('en-US');

export function bytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(0)} MB`;
  return `${(n / 1e3).toFixed(0)} kB`;
}

export function percent(part: number, whole: number): string {
  return whole > 0 ? `${((100 * part) / whole).toFixed(1)}%` : '–';
}

/** [0,1,2,3,7] -> "0-3, 7". */
export function compactList(indices: readonly number[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < indices.length) {
    let j = i;
    while (j + 1 < indices.length && indices[j + 1] === (indices[j] ?? 0) + 1) j++;
    parts.push(i === j ? `${indices[i]}` : `${indices[i]}-${indices[j]}`);
    i = j + 1;
  }
  return parts.join(', ');
}

/** FreezeLab's own progress line rewrite (carriage return, erase line), let through. */
const LINE_REWRITE = '\r\x1b[2K';

/**
 * Text safe to print on a terminal: C0 and C1 control characters other than newline and tab are
 * written as `\xHH`, so a name or path from a file cannot move the cursor, recolour or retitle the
 * terminal. CSV line ends (CR LF) and the progress line's own rewrite sequence pass.
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what this finds
  return text.replace(/\r\n|\r\x1b\[2K|[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, (m) =>
    m === LINE_REWRITE || m === '\r\n' ? m : `\\x${m.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}
