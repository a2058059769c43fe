import { describe, expect, it } from 'vitest';
import type { ImageScan } from '../../../src/main/engine/data/scan.js';
import { skippedNote } from '../../../src/main/engine/train/setup.js';

const scan = (ok: boolean, droppedRows: number): ImageScan => ({
  imageFile: 'a.jpg',
  labelFile: 'a.txt',
  ok,
  width: ok ? 64 : 0,
  height: ok ? 64 : 0,
  rows: [],
  labelFileExists: true,
  droppedRows,
  problems: [],
});

describe("a run's note on what bad data cost it", () => {
  it('says nothing when nothing was lost', () => {
    expect(skippedNote('train', [scan(true, 0), scan(true, 0)])).toBeUndefined();
  });

  it('counts skipped images and dropped rows, and points to check', () => {
    const note = skippedNote('train', [scan(false, 0), scan(true, 2), scan(true, 1), scan(false, 3)]);
    expect(note).toBe(
      'The train split: 2 of 4 images skipped (unreadable or too small), 3 label rows dropped (malformed or out of range). ' +
        'Run "freezelab check" (or Check dataset) for each file and line.',
    );
    expect(skippedNote('val', [scan(true, 1)])).toMatch(/^The val split: 1 label row dropped/);
  });
});
