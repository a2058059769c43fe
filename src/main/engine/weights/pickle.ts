/**
 * A restricted Python unpickler. It decodes the opcodes of pickle protocols 0-5 into plain JS
 * values and never executes anything: every GLOBAL is resolved through a caller-supplied
 * allow-list (`findGlobal`), which returns either an inert class (calling it builds a PyObject
 * that only records its arguments and state) or a pure JS reconstructor (e.g. OrderedDict -> Map).
 * Opcode semantics follow CPython's Lib/pickle.py (`_Unpickler`).
 *
 * Python values map to: None -> null, bool -> boolean, int -> number (bigint beyond 2^53),
 * float -> number, str -> string, bytes -> Uint8Array, list/tuple -> Array, dict -> Map, set -> Set.
 */
import { WeightsFormatError } from './errors.js';
import { limitError, WEIGHTS_LIMITS } from './limits.js';
import { PyGlobal, PyObject, type UnpicklerHooks } from './py-objects.js';

export { PyGlobal, PyObject } from './py-objects.js';
export type { UnpicklerHooks } from './py-objects.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');

function pyCall(fn: unknown, args: unknown[], what: string): unknown {
  if (!(fn instanceof PyGlobal)) throw new Error(`${what} on something that is not a class or function`);
  return fn.call ? fn.call(args) : new PyObject(fn.qualname, args);
}

function decodeLong(b: Uint8Array): number | bigint {
  if (b.length === 0) return 0;
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
  if ((b[b.length - 1]! & 0x80) !== 0) v -= 1n << BigInt(8 * b.length);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** Parses the text form of INT/LONG (protocol 0). */
function parseTextInt(s: string): number | bigint | boolean {
  if (s === '00') return false;
  if (s === '01') return true;
  const v = BigInt(s.endsWith('L') ? s.slice(0, -1) : s);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** The unpickler's own limits (defaults: WEIGHTS_LIMITS; tests lower them). */
export type PickleLimits = Readonly<Record<'PICKLE_MAX_MEMO' | 'PICKLE_MAX_OBJECTS' | 'PICKLE_MAX_DEPTH', number>>;

/**
 * Decodes one pickle. `file` and `member` only serve error messages.
 * Throws WeightsFormatError for a corrupt stream, or whatever `findGlobal` throws to refuse a global.
 */
export function unpickle(
  bytes: Uint8Array,
  hooks: UnpicklerHooks,
  file: string,
  member = 'data.pkl',
  limits: PickleLimits = WEIGHTS_LIMITS,
): unknown {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  let stack: unknown[] = [];
  const marks: unknown[][] = [];
  const memo = new Map<number, unknown>();
  // every value lands on the stack, so counting pushes bounds what a small file can allocate
  let created = 0;
  const push = (v: unknown): void => {
    if (++created > limits.PICKLE_MAX_OBJECTS) {
      throw limitError(
        file,
        'PICKLE_MAX_OBJECTS',
        `pickle ${member} creates more than ${created - 1} values`,
        limits.PICKLE_MAX_OBJECTS,
      );
    }
    stack.push(v);
  };
  const memoSet = (k: number, v: unknown): void => {
    if (!memo.has(k) && memo.size >= limits.PICKLE_MAX_MEMO) {
      throw limitError(
        file,
        'PICKLE_MAX_MEMO',
        `pickle ${member} memoizes more than ${memo.size} values`,
        limits.PICKLE_MAX_MEMO,
      );
    }
    memo.set(k, v);
  };

  const fail = (detail: string): never => {
    throw new WeightsFormatError(
      file,
      `not a valid PyTorch checkpoint (corrupt pickle ${member} at byte ${pos}): ${detail}; re-download or re-export it`,
    );
  };
  const need = (n: number): void => {
    if (pos + n > bytes.length) fail(`unexpected end of data (need ${n} more bytes)`);
  };
  const u8 = (): number => {
    need(1);
    return bytes[pos++]!;
  };
  const u16 = (): number => {
    need(2);
    const v = view.getUint16(pos, true);
    pos += 2;
    return v;
  };
  const u32 = (): number => {
    need(4);
    const v = view.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const u64 = (): number => {
    need(8);
    const v = view.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(bytes.length)) fail(`length ${v} exceeds the data`);
    return Number(v);
  };
  const copyOf = (b: Uint8Array): Uint8Array => {
    const c = new Uint8Array(b.length); // not b.slice(): a Node Buffer's slice is a view
    c.set(b);
    return c;
  };
  const take = (n: number): Uint8Array => {
    need(n);
    const b = bytes.subarray(pos, pos + n);
    pos += n;
    return b;
  };
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail('unterminated text line');
    const s = latin1.decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const str = (n: number): string => {
    try {
      return utf8.decode(take(n));
    } catch {
      return fail('invalid UTF-8 in a string');
    }
  };
  const pop = (): unknown => {
    if (stack.length === 0) fail('stack underflow');
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) fail('stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const items = stack;
    const prev = marks.pop();
    if (prev === undefined) fail('MARK expected');
    stack = prev!;
    return items;
  };
  const getMemo = (i: number): unknown => {
    if (!memo.has(i)) fail(`memo key ${i} is missing`);
    return memo.get(i);
  };
  const global = (module: string, name: string): PyGlobal => hooks.findGlobal(module, name);
  const setItems = (target: unknown, items: unknown[]): void => {
    if (!(target instanceof Map)) fail('SETITEM(S) on something that is not a dict');
    for (let i = 0; i + 1 < items.length; i += 2) (target as Map<unknown, unknown>).set(items[i], items[i + 1]);
  };
  const append = (target: unknown, items: unknown[]): void => {
    if (!Array.isArray(target)) fail('APPEND(S) on something that is not a list');
    for (const it of items) (target as unknown[]).push(it);
  };
  const call = (fn: unknown, args: unknown, what: string): unknown => {
    if (!Array.isArray(args)) fail(`${what} arguments are not a tuple`);
    try {
      return pyCall(fn, args as unknown[], what);
    } catch (err) {
      if (err instanceof WeightsFormatError) throw err;
      return fail(err instanceof Error ? err.message : String(err));
    }
  };

  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail('pickle protocol newer than 5');
        break;
      case 0x95: // FRAME (length only; frames are contiguous in memory)
        u64();
        break;
      case 0x2e: // STOP
        return pop();
      case 0x28: // MARK
        if (marks.length >= limits.PICKLE_MAX_DEPTH) {
          throw limitError(
            file,
            'PICKLE_MAX_DEPTH',
            `pickle ${member} nests MARKs more than ${marks.length} deep`,
            limits.PICKLE_MAX_DEPTH,
          );
        }
        marks.push(stack);
        stack = [];
        break;
      case 0x7d: // EMPTY_DICT
        push(new Map());
        break;
      case 0x5d: // EMPTY_LIST
        push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        push([]);
        break;
      case 0x8f: // EMPTY_SET
        push(new Set());
        break;
      case 0x58: // BINUNICODE
        push(str(u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        push(str(u8()));
        break;
      case 0x8d: // BINUNICODE8
        push(str(u64()));
        break;
      case 0x56: // UNICODE (raw-unicode-escape)
        push(line().replace(/\\u([0-9a-fA-F]{4})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))));
        break;
      case 0x54: // BINSTRING (Python 2 str, read as latin-1 like encoding='latin1')
        {
          const n = u32();
          if (n > 0x7fffffff) fail('negative string length');
          push(latin1.decode(take(n)));
        }
        break;
      case 0x55: // SHORT_BINSTRING
        push(latin1.decode(take(u8())));
        break;
      case 0x42: // BINBYTES
        push(copyOf(take(u32())));
        break;
      case 0x43: // SHORT_BINBYTES
        push(copyOf(take(u8())));
        break;
      case 0x8e: // BINBYTES8
      case 0x96: // BYTEARRAY8
        push(copyOf(take(u64())));
        break;
      case 0x4a: // BININT
        need(4);
        push(view.getInt32(pos, true));
        pos += 4;
        break;
      case 0x4b: // BININT1
        push(u8());
        break;
      case 0x4d: // BININT2
        push(u16());
        break;
      case 0x8a: // LONG1
        push(decodeLong(take(u8())));
        break;
      case 0x8b: // LONG4
        push(decodeLong(take(u32())));
        break;
      case 0x49: // INT
      case 0x4c: {
        // LONG
        const s = line();
        try {
          push(parseTextInt(s));
        } catch {
          fail(`bad integer ${JSON.stringify(s)}`);
        }
        break;
      }
      case 0x47: // BINFLOAT (big-endian double)
        need(8);
        push(view.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x46: // FLOAT
        push(Number.parseFloat(line()));
        break;
      case 0x88: // NEWTRUE
        push(true);
        break;
      case 0x89: // NEWFALSE
        push(false);
        break;
      case 0x4e: // NONE
        push(null);
        break;
      case 0x85: // TUPLE1
        push([pop()]);
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        push([pop(), b]);
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        push([pop(), b, c]);
        break;
      }
      case 0x74: // TUPLE
      case 0x6c: {
        // LIST (popMark replaces `stack`, so take the items before pushing)
        const items = popMark();
        push(items);
        break;
      }
      case 0x91: {
        // FROZENSET
        const items = popMark();
        push(new Set(items));
        break;
      }
      case 0x64: {
        // DICT
        const items = popMark();
        const d = new Map<unknown, unknown>();
        setItems(d, items);
        push(d);
        break;
      }
      case 0x61: {
        // APPEND
        const v = pop();
        append(top(), [v]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        append(top(), items);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        const s = top();
        if (!(s instanceof Set)) fail('ADDITEMS on something that is not a set');
        for (const it of items) (s as Set<unknown>).add(it);
        break;
      }
      case 0x68: // BINGET
        push(getMemo(u8()));
        break;
      case 0x6a: // LONG_BINGET
        push(getMemo(u32()));
        break;
      case 0x67: // GET
        push(getMemo(Number.parseInt(line(), 10)));
        break;
      case 0x71: // BINPUT
        memoSet(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memoSet(u32(), top());
        break;
      case 0x70: // PUT
        memoSet(Number.parseInt(line(), 10), top());
        break;
      case 0x94: // MEMOIZE
        memoSet(memo.size, top());
        break;
      case 0x63: {
        // GLOBAL
        const module = line();
        const name = line();
        push(global(module, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        push(global(module as string, name as string));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const fn = pop();
        push(call(fn, args, 'REDUCE'));
        break;
      }
      case 0x81: {
        // NEWOBJ: cls.__new__(cls, *args)
        const args = pop();
        const cls = pop();
        push(call(cls, args, 'NEWOBJ'));
        break;
      }
      case 0x92: {
        // NEWOBJ_EX (keyword arguments are dropped: inert objects do not use them)
        pop();
        const args = pop();
        const cls = pop();
        push(call(cls, args, 'NEWOBJ_EX'));
        break;
      }
      case 0x69: {
        // INST
        const module = line();
        const name = line();
        const args = popMark();
        push(call(global(module, name), args, 'INST'));
        break;
      }
      case 0x6f: {
        // OBJ
        const items = popMark();
        push(call(items[0], items.slice(1), 'OBJ'));
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop();
        const obj = top();
        if (obj instanceof PyObject) obj.setState(state);
        // BUILD on anything else (a tensor, a Map) carries no data a checkpoint reader needs
        break;
      }
      case 0x51: // BINPERSID
        push(hooks.persistentLoad(pop()));
        break;
      case 0x50: // PERSID
        push(hooks.persistentLoad(line()));
        break;
      case 0x30: // POP
        if (stack.length > 0) stack.pop();
        else popMark();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        push(top());
        break;
      case 0x82: // EXT1
      case 0x83: // EXT2
      case 0x84: // EXT4
        fail('extension-registry references (EXT opcodes) are not supported');
        break;
      default:
        pos -= 1;
        fail(`unknown or unsupported opcode 0x${op.toString(16).padStart(2, '0')}`);
    }
  }
}
