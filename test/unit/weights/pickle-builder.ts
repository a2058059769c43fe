/**
 * Builds pickle byte streams opcode by opcode, and PyTorch-style zips around them, so tests can
 * make hostile or damaged checkpoints without Python.
 */
import { zipSync } from 'fflate';

const enc = new TextEncoder();

/** Appends opcodes; every method returns `this` for chaining. */
export class PickleBuilder {
  private parts: number[] = [];
  raw(...bytes: number[]): this {
    this.parts.push(...bytes);
    return this;
  }
  op(ch: string | number): this {
    return this.raw(typeof ch === 'string' ? ch.charCodeAt(0) : ch);
  }
  proto(v: number): this {
    return this.raw(0x80, v);
  }
  /** GLOBAL 'module name' (protocols 0-3). */
  global(module: string, name: string): this {
    return this.op('c').raw(...enc.encode(`${module}\n${name}\n`));
  }
  /** SHORT_BINUNICODE (protocol 4). */
  shortStr(s: string): this {
    const b = enc.encode(s);
    return this.raw(0x8c, b.length, ...b);
  }
  /** BINUNICODE. */
  str(s: string): this {
    const b = enc.encode(s);
    return this.op('X').raw(b.length & 0xff, (b.length >> 8) & 0xff, (b.length >> 16) & 0xff, b.length >>> 24, ...b);
  }
  /** module and name pushed as strings, then STACK_GLOBAL (protocol 4). */
  stackGlobal(module: string, name: string): this {
    return this.shortStr(module).raw(0x94).shortStr(name).raw(0x94).raw(0x93);
  }
  /** BININT1 / BININT2 / BININT as the value needs. */
  int(n: number): this {
    if (n >= 0 && n < 256) return this.raw(0x4b, n);
    if (n >= 0 && n < 65536) return this.raw(0x4d, n & 0xff, n >> 8);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setInt32(0, n, true);
    return this.op('J').raw(...b);
  }
  /** LONG1 of a two's complement little-endian value. */
  long1(v: bigint): this {
    const bytes: number[] = [];
    let x = v;
    for (;;) {
      const byte = Number(BigInt.asUintN(8, x));
      bytes.push(byte);
      x >>= 8n;
      if ((x === 0n && (byte & 0x80) === 0) || (x === -1n && (byte & 0x80) !== 0)) break;
    }
    return this.raw(0x8a, bytes.length, ...bytes);
  }
  float(v: number): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, false);
    return this.op('G').raw(...b);
  }
  mark(): this {
    return this.op('(');
  }
  tuple(): this {
    return this.op('t');
  }
  tuple1(): this {
    return this.raw(0x85);
  }
  emptyTuple(): this {
    return this.op(')');
  }
  emptyDict(): this {
    return this.op('}');
  }
  setitems(): this {
    return this.op('u');
  }
  reduce(): this {
    return this.op('R');
  }
  stop(): this {
    return this.op('.');
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

/** A PyTorch-style zip: `<prefix>/data.pkl`, `<prefix>/version`, `<prefix>/data/<key>` storages. */
export function torchZip(
  pickle: Uint8Array,
  storages: Record<string, Uint8Array> = {},
  prefix = 'archive',
): Uint8Array {
  const files: Record<string, Uint8Array> = {
    [`${prefix}/data.pkl`]: pickle,
    [`${prefix}/version`]: enc.encode('3\n'),
  };
  for (const [k, v] of Object.entries(storages)) files[`${prefix}/data/${k}`] = v;
  return zipSync(files, { level: 0 });
}

/**
 * Pickle fragment for `_rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())`
 * over a persistent storage `('storage', torch.<type>, key, 'cpu', numel)`.
 */
export function tensorPickle(
  p: PickleBuilder,
  storageType: string,
  key: string,
  numel: number,
  offset: number,
  size: number[],
  stride: number[],
): PickleBuilder {
  p.global('torch._utils', '_rebuild_tensor_v2').mark();
  p.mark().str('storage').global('torch', storageType).str(key).str('cpu').int(numel).tuple().op('Q');
  p.int(offset).mark();
  size.forEach((s) => p.int(s));
  p.tuple().mark();
  stride.forEach((s) => p.int(s));
  p.tuple().raw(0x89).global('collections', 'OrderedDict').emptyTuple().reduce().tuple().reduce();
  return p;
}
