import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadWeightsFile, saveCheckpoint, WeightsFormatError } from '../../../src/main/engine/weights/index.js';
import { describeShared, shared } from '../../helpers/shared.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'freezelab-load-'));

describeShared('loadWeightsFile with yolov5n.pt', () => {
  it('reads the .pt, saves it as a FreezeLab checkpoint and reads that back identically', async () => {
    const t0 = performance.now();
    const pt = await loadWeightsFile(shared('weights', 'yolov5n.pt'));
    console.log(`loadWeightsFile(yolov5n.pt) incl. disk read: ${(performance.now() - t0).toFixed(1)} ms`);
    expect(pt.format).toBe('pt');
    expect(pt.nc).toBe(80);
    expect(pt.meta.source).toBe('model');
    const file = path.join(tmp, 'yolov5n.safetensors');
    const t1 = performance.now();
    await saveCheckpoint(file, pt.tensors, { yaml: pt.yaml, names: pt.names, epoch: pt.epoch, freeze: '10' });
    const st = await loadWeightsFile(file);
    console.log(`save + load as safetensors: ${(performance.now() - t1).toFixed(1)} ms`);
    expect(st.format).toBe('safetensors');
    expect(st.yaml).toEqual(pt.yaml);
    expect(st.names).toEqual(pt.names);
    expect(st.nc).toBe(pt.nc);
    expect(st.epoch).toBe(pt.epoch);
    expect(st.meta.freeze).toBe('10');
    expect([...st.tensors.keys()]).toEqual([...pt.tensors.keys()]);
    for (const [name, t] of pt.tensors) {
      const u = st.tensors.get(name)!;
      expect(u.dtype, name).toBe(t.dtype);
      expect(u.shape, name).toEqual(t.shape);
      const bytes = (d: typeof t.data): Buffer => Buffer.from(d.buffer, d.byteOffset, d.byteLength);
      expect(bytes(u.data).equals(bytes(t.data)), name).toBe(true);
    }
  });
});

describe('loadWeightsFile on other files', () => {
  const write = (name: string, bytes: Uint8Array | string): string => {
    const f = path.join(tmp, name);
    writeFileSync(f, bytes);
    return f;
  };

  it('names the supported formats for an unknown file', async () => {
    const f = write(
      'model.onnx',
      Uint8Array.from({ length: 64 }, (_, i) => (i * 37) & 0xff),
    );
    await expect(loadWeightsFile(f)).rejects.toThrow(
      /is not a recognised weights file; FreezeLab reads YOLOv5 PyTorch checkpoints \(\.pt\) and FreezeLab checkpoints/,
    );
  });

  it('hints at legacy (pre-1.6, non-zip) torch.save files', async () => {
    const f = write('legacy.pt', Uint8Array.of(0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8));
    await expect(loadWeightsFile(f)).rejects.toThrow(/legacy, non-zip torch\.save file/);
  });

  it('reports empty, missing and folder paths clearly', async () => {
    await expect(loadWeightsFile(write('empty.pt', ''))).rejects.toThrow(/empty\.pt: is empty/);
    await expect(loadWeightsFile(path.join(tmp, 'nope.pt'))).rejects.toThrow(/nope\.pt: cannot be read: no such file/);
    await expect(loadWeightsFile(tmp)).rejects.toBeInstanceOf(WeightsFormatError);
  });
});
