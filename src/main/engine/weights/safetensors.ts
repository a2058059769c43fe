/**
 * The safetensors format (huggingface/safetensors): an 8-byte little-endian header length, a JSON
 * header `{name: {dtype, shape, data_offsets: [begin, end]}, __metadata__: {string: string}}`
 * padded with spaces so the data starts 8-byte aligned, then one byte buffer with no holes.
 * Tensors are laid out widest element first so every tensor stays aligned to its element size.
 */
import type { HostData, HostDType, HostTensor, NamedTensors } from '../host-tensor.js';
import { numel } from '../host-tensor.js';
import { WeightsFormatError } from './errors.js';
import { bfloat16ToFloat32, halfToFloat32 } from './fp16.js';

/** dtypes FreezeLab reads; it writes F32, I32 and I64 (what HostTensor holds). */
const DTYPE_BYTES: Record<string, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};
const WRITE_DTYPE: Record<HostDType, string> = { float32: 'F32', int32: 'I32', int64: 'I64' };
const MAX_HEADER = 100 * 1024 * 1024;

/** Header plus the byte chunks to write after it, in order (the chunks view the tensors' memory). */
export interface EncodedSafetensors {
  readonly header: Uint8Array;
  readonly chunks: readonly Uint8Array[];
  readonly byteLength: number;
}

function bytesOf(data: HostData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function checkTensor(name: string, t: HostTensor): void {
  const expected = { float32: Float32Array, int32: Int32Array, int64: BigInt64Array }[t.dtype];
  if (!(t.data instanceof expected))
    throw new Error(`tensor ${name}: dtype ${t.dtype} but data is ${t.data.constructor.name}`);
  if (t.data.length !== numel(t.shape)) {
    throw new Error(
      `tensor ${name}: shape [${t.shape.join(', ')}] needs ${numel(t.shape)} values, data has ${t.data.length}`,
    );
  }
}

/** Lays out tensors and metadata without copying tensor data. */
export function encodeSafetensors(tensors: NamedTensors, metadata: Record<string, string>): EncodedSafetensors {
  const entries = [...tensors.entries()];
  entries.forEach(([name, t]) => checkTensor(name, t));
  // widest elements first (stable), so each tensor's offset is a multiple of its element size
  const layout = entries
    .map((e, i) => ({ e, i, size: DTYPE_BYTES[WRITE_DTYPE[e[1].dtype]]! }))
    .sort((a, b) => b.size - a.size || a.i - b.i);
  const offsets = new Map<string, [number, number]>();
  let at = 0;
  for (const { e } of layout) {
    const len = e[1].data.byteLength;
    offsets.set(e[0], [at, at + len]);
    at += len;
  }
  const header: Record<string, unknown> = { __metadata__: metadata };
  for (const [name, t] of entries) {
    header[name] = { dtype: WRITE_DTYPE[t.dtype], shape: [...t.shape], data_offsets: offsets.get(name) };
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const pad = (8 - ((8 + json.length) % 8)) % 8;
  if (pad > 0) {
    const padded = new Uint8Array(json.length + pad).fill(0x20);
    padded.set(json);
    json = padded;
  }
  const head = new Uint8Array(8 + json.length);
  new DataView(head.buffer).setBigUint64(0, BigInt(json.length), true);
  head.set(json, 8);
  return { header: head, chunks: layout.map(({ e }) => bytesOf(e[1].data)), byteLength: head.length + at };
}

/** Serializes to one buffer (convenient for small files and tests; saveCheckpoint streams instead). */
export function serializeSafetensors(tensors: NamedTensors, metadata: Record<string, string>): Uint8Array {
  const enc = encodeSafetensors(tensors, metadata);
  const out = new Uint8Array(enc.byteLength);
  out.set(enc.header, 0);
  let at = enc.header.length;
  for (const c of enc.chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** True when the bytes start like a safetensors file: a plausible header length, then `{`. */
export function looksLikeSafetensors(bytes: Uint8Array): boolean {
  if (bytes.length < 10) return false;
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  return n >= 2n && n <= BigInt(bytes.length - 8) && bytes[8] === 0x7b;
}

function toHost(dtype: string, shape: number[], raw: Uint8Array): HostTensor {
  // aligned private copy (not raw.slice(): on a Node Buffer that is a view, not a copy)
  const copy = new Uint8Array(raw.length);
  copy.set(raw);
  const buf = copy.buffer;
  switch (dtype) {
    case 'F32':
      return { dtype: 'float32', shape, data: new Float32Array(buf) };
    case 'F16':
      return { dtype: 'float32', shape, data: halfToFloat32(new Uint16Array(buf)), sourceDType: 'float16' };
    case 'BF16':
      return { dtype: 'float32', shape, data: bfloat16ToFloat32(new Uint16Array(buf)), sourceDType: 'bfloat16' };
    case 'F64':
      return { dtype: 'float32', shape, data: Float32Array.from(new Float64Array(buf)), sourceDType: 'float64' };
    case 'I64':
      return { dtype: 'int64', shape, data: new BigInt64Array(buf) };
    case 'I32':
      return { dtype: 'int32', shape, data: new Int32Array(buf) };
    case 'I16':
      return { dtype: 'int32', shape, data: Int32Array.from(new Int16Array(buf)), sourceDType: 'int16' };
    case 'I8':
      return { dtype: 'int32', shape, data: Int32Array.from(new Int8Array(buf)), sourceDType: 'int8' };
    default: // U8, BOOL
      return { dtype: 'int32', shape, data: Int32Array.from(new Uint8Array(buf)), sourceDType: dtype.toLowerCase() };
  }
}

/** Parsed safetensors content. Tensors keep the header's key order. */
export interface SafetensorsContent {
  tensors: NamedTensors;
  metadata: Record<string, string>;
}

/** Parses a safetensors file held in memory; throws WeightsFormatError saying what is wrong. */
export function parseSafetensors(bytes: Uint8Array, file: string): SafetensorsContent {
  const bad = (detail: string): WeightsFormatError =>
    new WeightsFormatError(
      file,
      `not a valid safetensors checkpoint: ${detail}; the file is damaged or truncated, re-save or re-download it`,
    );
  if (bytes.length < 8) throw bad(`only ${bytes.length} bytes long`);
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(bytes.length - 8))
    throw bad(`header length ${n} goes beyond the end of the file (${bytes.length} bytes)`);
  if (n > BigInt(MAX_HEADER)) throw bad(`header length ${n} is implausibly large`);
  const headerEnd = 8 + Number(n);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, headerEnd)));
  } catch (err) {
    throw bad(`the JSON header does not parse (${err instanceof Error ? err.message : String(err)})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header))
    throw bad('the header is not a JSON object');
  const data = bytes.subarray(headerEnd);
  const ranges: { name: string; b: number; end: number }[] = [];
  const metadata: Record<string, string> = {};
  const tensors: NamedTensors = new Map();
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry))
        throw bad('__metadata__ is not an object');
      for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof v !== 'string') throw bad(`__metadata__.${k} is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
    if (e === null || typeof e !== 'object') throw bad(`entry ${name} is not an object`);
    const size = typeof e.dtype === 'string' ? DTYPE_BYTES[e.dtype] : undefined;
    if (size === undefined) throw bad(`tensor ${name} has unknown dtype ${JSON.stringify(e.dtype)}`);
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
      throw bad(`tensor ${name} has an invalid shape ${JSON.stringify(shape)}`);
    }
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((x) => Number.isSafeInteger(x) && (x as number) >= 0)) {
      throw bad(`tensor ${name} has invalid data_offsets ${JSON.stringify(off)}`);
    }
    const [b, end] = off as [number, number];
    if (b > end || end > data.length) {
      throw bad(`tensor ${name} data_offsets [${b}, ${end}] lie outside the ${data.length}-byte data buffer`);
    }
    const dims = shape as number[];
    if (end - b !== numel(dims) * size) {
      throw bad(
        `tensor ${name} has shape [${dims.join(', ')}] of ${e.dtype as string} (${numel(dims) * size} bytes) but ${end - b} bytes of data`,
      );
    }
    ranges.push({ name, b, end });
  }
  // two tensors over the same bytes would alias; the format requires disjoint ranges, and
  // checking before converting keeps a crafted header from multiplying one buffer many times
  const filled = ranges.filter((r) => r.end > r.b).sort((x, y) => x.b - y.b);
  for (let i = 1; i < filled.length; i++) {
    const prev = filled[i - 1]!;
    const cur = filled[i]!;
    if (cur.b < prev.end) {
      throw bad(
        `tensors ${prev.name} [${prev.b}, ${prev.end}] and ${cur.name} [${cur.b}, ${cur.end}] overlap in the data buffer`,
      );
    }
  }
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') continue;
    const e = entry as { dtype: string; shape: number[]; data_offsets: [number, number] };
    tensors.set(name, toHost(e.dtype, [...e.shape], data.subarray(e.data_offsets[0], e.data_offsets[1])));
  }
  return { tensors, metadata };
}
