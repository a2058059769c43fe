/**
 * Loads the object tree of a PyTorch checkpoint without Python: the restricted unpickler, an
 * allow-list of the globals a YOLOv5 checkpoint needs, and tensor reconstruction from the zip's
 * raw storages. Follows torch/serialization.py (`_load`, persistent ids
 * `('storage', <Type>Storage, key, location, numel)`) and torch/_utils.py (`_rebuild_tensor_v2`).
 */
import type { HostData, HostDType, HostTensor } from '../host-tensor.js';
import { UnsafeCheckpointError, WeightsFormatError } from './errors.js';
import { bfloat16ToFloat32, halfToFloat32 } from './fp16.js';
import { PyGlobal, PyObject, unpickle } from './pickle.js';
import { openTorchZip, type TorchZip } from './zip.js';

type StorageDType =
  'float16' | 'bfloat16' | 'float32' | 'float64' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

const STORAGE_TYPES: Record<string, StorageDType> = {
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  FloatStorage: 'float32',
  DoubleStorage: 'float64',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};

const ELEMENT_BYTES: Record<StorageDType, number> = {
  float16: 2,
  bfloat16: 2,
  float32: 4,
  float64: 8,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

/**
 * A tensor rebuilt from a checkpoint storage (a HostTensor the tree walker can recognise). Its
 * data is converted on first access, so tensors nobody reads (optimizer state) cost nothing.
 */
export class TorchTensor implements HostTensor {
  readonly dtype: HostDType;
  readonly sourceDType?: string;
  private cached: HostData | null = null;
  constructor(
    private readonly storage: TorchStorage,
    private readonly offset: number,
    readonly shape: readonly number[],
    private readonly stride: readonly number[],
  ) {
    const host = HOST_DTYPE[storage.dtype];
    this.dtype = host[0];
    if (host[1] !== undefined) this.sourceDType = host[1];
  }

  get data(): HostData {
    this.cached ??= convert(this.storage.dtype, viewOf(this.storage, this.offset, this.shape, this.stride));
    return this.cached;
  }
}

/** Host dtype and, when widened, the source dtype of each storage dtype. */
const HOST_DTYPE: Record<StorageDType, [HostDType, string?]> = {
  float16: ['float32', 'float16'],
  bfloat16: ['float32', 'bfloat16'],
  float32: ['float32'],
  float64: ['float32', 'float64'],
  int64: ['int64'],
  int32: ['int32'],
  int16: ['int32', 'int16'],
  int8: ['int32', 'int8'],
  uint8: ['int32', 'uint8'],
  bool: ['int32', 'bool'],
};

type TypedElements =
  Uint16Array | Int16Array | Float32Array | Float64Array | BigInt64Array | Int32Array | Int8Array | Uint8Array;

/** One `<prefix>/data/<key>` storage with its elements typed. */
class TorchStorage {
  private typed: TypedElements | null = null;
  constructor(
    readonly key: string,
    readonly dtype: StorageDType,
    readonly numel: number,
    private readonly bytes: Uint8Array,
    private readonly bigEndian: boolean,
  ) {}

  /** Elements as a typed array over an aligned (and little-endian) copy when needed. */
  elements(): TypedElements {
    if (this.typed) return this.typed;
    const size = ELEMENT_BYTES[this.dtype];
    let b = this.bytes.subarray(0, this.numel * size);
    if (b.byteOffset % size !== 0 || this.bigEndian) {
      const copy = new Uint8Array(b.length); // aligned copy (a Node Buffer's slice() is a view)
      copy.set(b);
      b = copy;
    }
    if (this.bigEndian && size > 1) {
      for (let i = 0; i < b.length; i += size) b.subarray(i, i + size).reverse();
    }
    const buf = b.buffer;
    const off = b.byteOffset;
    const n = this.numel;
    switch (this.dtype) {
      case 'float16':
      case 'bfloat16':
      case 'int16':
        this.typed = this.dtype === 'int16' ? new Int16Array(buf, off, n) : new Uint16Array(buf, off, n);
        break;
      case 'float32':
        this.typed = new Float32Array(buf, off, n);
        break;
      case 'float64':
        this.typed = new Float64Array(buf, off, n);
        break;
      case 'int64':
        this.typed = new BigInt64Array(buf, off, n);
        break;
      case 'int32':
        this.typed = new Int32Array(buf, off, n);
        break;
      case 'int8':
        this.typed = new Int8Array(buf, off, n);
        break;
      case 'uint8':
      case 'bool':
        this.typed = new Uint8Array(buf, off, n);
        break;
    }
    return this.typed;
  }
}

function isContiguous(size: readonly number[], stride: readonly number[]): boolean {
  let expected = 1;
  for (let d = size.length - 1; d >= 0; d--) {
    if (size[d]! !== 1 && stride[d]! !== expected) return false;
    expected *= size[d]!;
  }
  return true;
}

/** Storage element index of every tensor element in C order (for non-contiguous views). */
function gatherIndices(size: readonly number[], stride: readonly number[], offset: number, n: number): Float64Array {
  const idx = new Float64Array(n);
  const counter = new Array<number>(size.length).fill(0);
  let cur = offset;
  for (let i = 0; i < n; i++) {
    idx[i] = cur;
    for (let d = size.length - 1; d >= 0; d--) {
      counter[d]! += 1;
      cur += stride[d]!;
      if (counter[d]! < size[d]!) break;
      cur -= stride[d]! * size[d]!;
      counter[d] = 0;
    }
  }
  return idx;
}

function toIntList(v: unknown, what: string): number[] {
  if (!Array.isArray(v)) throw new Error(`${what} is not a tuple`);
  return v.map((x) => {
    const n = typeof x === 'bigint' ? Number(x) : x;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new Error(`${what} holds ${String(x)}`);
    return n;
  });
}

/** torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, ...); bounds checked now. */
function rebuildTensor(args: unknown[]): TorchTensor {
  const storage = args[0];
  if (!(storage instanceof TorchStorage)) throw new Error('_rebuild_tensor_v2 without a storage');
  const offset = toIntList([args[1]], 'tensor offset')[0]!;
  const size = toIntList(args[2], 'tensor size');
  const stride = toIntList(args[3], 'tensor stride');
  if (stride.length !== size.length) throw new Error('tensor size and stride differ in length');
  const n = size.reduce((a, b) => a * b, 1);
  // a view may not hold more elements than its storage: stride 0 (expand) would let a few bytes
  // stand for gigabytes once the view is materialised; checkpoints never save such views
  if (n > storage.numel) {
    throw new Error(
      `tensor of shape [${size.join(', ')}] (${n} elements) is larger than its storage ${storage.key} (${storage.numel} elements)`,
    );
  }
  const last = n === 0 ? offset - 1 : size.reduce((acc, s, d) => acc + (s - 1) * stride[d]!, offset);
  if (last >= storage.numel) throw new Error(`tensor reads past storage ${storage.key}`);
  return new TorchTensor(storage, offset, size, stride);
}

/** The tensor's elements in C order, in the storage's element type (a view when contiguous). */
function viewOf(
  storage: TorchStorage,
  offset: number,
  size: readonly number[],
  stride: readonly number[],
): TypedElements {
  const n = size.reduce((a, b) => a * b, 1);
  const src = storage.elements();
  if (n === 0 || isContiguous(size, stride)) return src.subarray(offset, offset + n);
  const idx = gatherIndices(size, stride, offset, n);
  const g = new (src.constructor as new (n: number) => TypedElements)(n) as { [i: number]: number | bigint };
  const from = src as unknown as { [i: number]: number | bigint };
  for (let i = 0; i < n; i++) g[i] = from[idx[i]!]!;
  return g as unknown as TypedElements;
}

/** Converts storage elements to a private HostData array (always a copy). */
function convert(dtype: StorageDType, part: TypedElements): HostData {
  switch (dtype) {
    case 'float16':
      return halfToFloat32(part as Uint16Array);
    case 'bfloat16':
      return bfloat16ToFloat32(part as Uint16Array);
    case 'float32':
      return (part as Float32Array).slice();
    case 'float64':
      return Float32Array.from(part as Float64Array);
    case 'int64':
      return (part as BigInt64Array).slice();
    case 'int32':
      return (part as Int32Array).slice();
    default:
      return Int32Array.from(part as ArrayLike<number>);
  }
}

/** A numpy dtype object; BUILD gives it its byte order. */
class NumpyDType extends PyObject {
  byteOrder = '<';
  constructor(readonly descr: string) {
    super('numpy.dtype', [descr]);
  }
  override setState(state: unknown): void {
    if (Array.isArray(state) && typeof state[1] === 'string') this.byteOrder = state[1];
    this.state = state;
  }
}

/** numpy.core.multiarray.scalar(dtype, bytes) for the plain numeric kinds. */
function numpyScalar(args: unknown[]): unknown {
  const [dt, raw] = args;
  if (!(dt instanceof NumpyDType) || !(raw instanceof Uint8Array)) return new PyObject('numpy.scalar', args);
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const le = dt.byteOrder !== '>';
  const safe = (x: bigint): number | bigint =>
    x >= BigInt(Number.MIN_SAFE_INTEGER) && x <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(x) : x;
  const readers: Record<string, () => unknown> = {
    f8: () => v.getFloat64(0, le),
    f4: () => v.getFloat32(0, le),
    i8: () => safe(v.getBigInt64(0, le)),
    u8: () => safe(v.getBigUint64(0, le)),
    i4: () => v.getInt32(0, le),
    u4: () => v.getUint32(0, le),
    i2: () => v.getInt16(0, le),
    u2: () => v.getUint16(0, le),
    i1: () => v.getInt8(0),
    u1: () => v.getUint8(0),
    b1: () => v.getUint8(0) !== 0,
  };
  const read = readers[dt.descr];
  return read && raw.length >= Number(dt.descr.slice(1)) ? read() : new PyObject('numpy.scalar', args);
}

const asSet = (args: unknown[]): Set<unknown> => new Set((args[0] as Iterable<unknown> | undefined) ?? []);
const asPath =
  (sep: string) =>
  (args: unknown[]): string =>
    args.map(String).join(sep).replace(/^\/\//, '/');

/** Globals with a pure reconstructor, by `module.name`. */
const CALLABLES: Record<string, (args: unknown[]) => unknown> = {
  'collections.OrderedDict': (args) => new Map((args[0] as Iterable<[unknown, unknown]> | undefined) ?? []),
  'builtins.set': asSet,
  '__builtin__.set': asSet,
  'builtins.frozenset': asSet,
  '__builtin__.frozenset': asSet,
  '_codecs.encode': (args) => {
    // protocol 2 pickles bytes as _codecs.encode(text, 'latin1')
    const [text, enc] = args;
    if (typeof text !== 'string' || (enc !== 'latin1' && enc !== 'latin-1'))
      throw new Error('unsupported _codecs.encode call');
    return Uint8Array.from(text, (c) => c.charCodeAt(0));
  },
  'copyreg._reconstructor': reconstructor,
  'copy_reg._reconstructor': reconstructor,
  'pathlib.PosixPath': asPath('/'),
  'pathlib.PurePosixPath': asPath('/'),
  'pathlib.Path': asPath('/'),
  'pathlib.WindowsPath': asPath('\\'),
  'pathlib.PureWindowsPath': asPath('\\'),
  'torch.Size': (args) => [...((args[0] as unknown[] | undefined) ?? [])],
  'torch._utils._rebuild_tensor_v2': rebuildTensor,
  'torch._utils._rebuild_tensor': rebuildTensor,
  'torch._utils._rebuild_parameter': (args) => args[0],
  'torch._utils._rebuild_parameter_with_state': (args) => args[0],
  'torch._tensor._rebuild_from_type_v2': (args) => {
    const [fn, , fnArgs] = args;
    if (!(fn instanceof PyGlobal) || !fn.call || !Array.isArray(fnArgs)) throw new Error('bad _rebuild_from_type_v2');
    return fn.call(fnArgs);
  },
  'numpy.dtype': (args) => new NumpyDType(String(args[0])),
  'numpy.core.multiarray.scalar': numpyScalar,
  'numpy._core.multiarray.scalar': numpyScalar,
  'numpy.core.multiarray._reconstruct': (args) => new PyObject('numpy.ndarray', args),
  'numpy._core.multiarray._reconstruct': (args) => new PyObject('numpy.ndarray', args),
};

function reconstructor(args: unknown[]): PyObject {
  const cls = args[0];
  if (!(cls instanceof PyGlobal) || cls.call) throw new Error('copyreg._reconstructor on a non-class');
  return new PyObject(cls.qualname, []);
}

/** Modules whose classes become inert objects (any name in them). */
const INERT_MODULES = new Set(['models.yolo', 'models.common', 'models.experimental']);
const INERT_PREFIXES = ['torch.nn.modules.'];
/** Single inert classes and values. */
const INERT_NAMES = new Set([
  'argparse.Namespace',
  'numpy.ndarray',
  'torch.device',
  'torch.strided',
  ...[
    'float16',
    'half',
    'bfloat16',
    'float32',
    'float',
    'float64',
    'double',
    'int64',
    'long',
    'int32',
    'int',
    'int16',
    'int8',
    'uint8',
    'bool',
  ].map((d) => `torch.${d}`),
]);

/** Resolves an allowed global or throws UnsafeCheckpointError naming it. */
export function torchGlobal(module: string, name: string, file: string): PyGlobal {
  const qual = `${module}.${name}`;
  const fn = CALLABLES[qual];
  if (fn) return new PyGlobal(qual, fn);
  if (module === 'torch' && name in STORAGE_TYPES) return new PyGlobal(qual);
  if (INERT_MODULES.has(module) || INERT_PREFIXES.some((p) => module.startsWith(p)) || INERT_NAMES.has(qual)) {
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return new PyGlobal(qual);
  }
  if (module === 'ultralytics' || module.startsWith('ultralytics.')) {
    // a YOLOv8/YOLO11 checkpoint: not malicious, just another model family
    throw new WeightsFormatError(
      file,
      `is an Ultralytics YOLOv8/YOLO11 checkpoint (it references ${qual}); FreezeLab reads YOLOv5 checkpoints (yolov5n.pt, yolov5s.pt, ...)`,
    );
  }
  throw new UnsafeCheckpointError(file, qual);
}

/** Unpickles `data.pkl` of an opened PyTorch zip into plain values, TorchTensors and PyObjects. */
export function loadTorchObject(zip: TorchZip, file: string): unknown {
  if (zip.byteOrder !== null && zip.byteOrder !== 'little' && zip.byteOrder !== 'big') {
    throw new WeightsFormatError(file, `unknown byte order ${JSON.stringify(zip.byteOrder)} in the checkpoint`);
  }
  const bigEndian = zip.byteOrder === 'big';
  const storages = new Map<string, TorchStorage>();
  const member = `${zip.prefix}data.pkl`;
  const persistentLoad = (pid: unknown): TorchStorage => {
    if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5) {
      throw new WeightsFormatError(
        file,
        `not a valid PyTorch checkpoint: unexpected persistent id in ${member}; re-export it`,
      );
    }
    const [, type, key, , numelRaw] = pid as [string, unknown, unknown, unknown, unknown];
    const dtype = type instanceof PyGlobal ? STORAGE_TYPES[type.qualname.replace(/^torch\./, '')] : undefined;
    if (dtype === undefined) {
      const what = type instanceof PyGlobal ? type.qualname : String(type);
      throw new WeightsFormatError(
        file,
        `uses storage type ${what}, which FreezeLab cannot read; re-export it with float32/float16 weights`,
      );
    }
    const k = String(key);
    const cached = storages.get(k);
    if (cached) return cached;
    const numel = Number(numelRaw);
    const bytes = zip.storage(k);
    if (bytes === undefined || !Number.isSafeInteger(numel) || bytes.length < numel * ELEMENT_BYTES[dtype]) {
      throw new WeightsFormatError(
        file,
        `not a valid PyTorch checkpoint: storage ${zip.prefix}data/${k} is ${bytes === undefined ? 'missing' : 'shorter than its tensor'}; re-download or re-export it`,
      );
    }
    const s = new TorchStorage(k, dtype, numel, bytes, bigEndian);
    storages.set(k, s);
    return s;
  };
  return unpickle(zip.pickle, { findGlobal: (m, n) => torchGlobal(m, n, file), persistentLoad }, file, member);
}

/** Opens a PyTorch zip checkpoint held in memory and returns its unpickled object. */
export function readTorchCheckpoint(bytes: Uint8Array, file: string): unknown {
  return loadTorchObject(openTorchZip(bytes, file), file);
}
