/**
 * Reads NumPy `.npy` arrays (the reference figures in ../shared/reference): magic `\x93NUMPY`,
 * version 1.x (2-byte header length) or 2.x/3.x (4-byte), a Python-literal header dict, then raw
 * data. Only little-endian float32 in C order is accepted, which is what the references hold.
 */
import { readFileSync } from 'node:fs';

/** A float32 array read from a .npy file. */
export interface NpyArray {
  shape: number[];
  data: Float32Array;
}

/** Parses .npy bytes; `file` names the file in error messages. */
export function parseNpy(bytes: Uint8Array, file: string): NpyArray {
  const bad = (why: string): Error => new Error(`${file}: not a readable .npy file: ${why}`);
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || magic.some((b, i) => bytes[i] !== b)) throw bad('missing the \\x93NUMPY magic');
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw bad('truncated header');
    headerLen = view.getUint32(8, true);
    start = 12;
  } else {
    throw bad(`unsupported format version ${major}.${bytes[7]}`);
  }
  if (start + headerLen > bytes.length) throw bad('header runs past the end of the file');
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined)
    throw bad(`cannot parse header ${header.trim()}`);
  if (descr !== '<f4') throw bad(`dtype ${descr} is not little-endian float32 ('<f4')`);
  if (fortran === 'True') throw bad('Fortran (column-major) order is not supported');
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => Number.parseInt(s, 10));
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) throw bad(`invalid shape (${shapeText})`);
  const n = shape.reduce((a, b) => a * b, 1);
  const dataStart = start + headerLen;
  if (bytes.length - dataStart !== n * 4) {
    throw bad(`shape (${shape.join(', ')}) needs ${n * 4} data bytes, the file has ${bytes.length - dataStart}`);
  }
  // copy so the Float32Array is aligned regardless of the header length (and not bytes.slice():
  // on a Node Buffer that is a view over the whole file)
  const copy = new Uint8Array(n * 4);
  copy.set(bytes.subarray(dataStart));
  const data = new Float32Array(copy.buffer);
  return { shape, data };
}

/** Reads a little-endian float32 C-order .npy file. */
export function readNpy(file: string): NpyArray {
  return parseNpy(readFileSync(file), file);
}
