/**
 * Reads the zip container of a PyTorch checkpoint (torch.save's "new" format since PyTorch 1.6):
 * `<prefix>/data.pkl`, `<prefix>/data/<key>` raw storages, `<prefix>/version`. The prefix is
 * `archive/` for recent PyTorch and the file stem for older ones, so it is discovered, not assumed.
 */
import { unzipSync } from 'fflate';
import { WeightsFormatError } from './errors.js';
import { limitError, WEIGHTS_LIMITS } from './limits.js';

/** The members of a PyTorch zip, addressed relative to its prefix. */
export interface TorchZip {
  /** e.g. `archive/` (with the trailing slash), or `` when members sit at the root. */
  readonly prefix: string;
  /** Bytes of `<prefix>/data.pkl`. */
  readonly pickle: Uint8Array;
  /** Raw bytes of storage `<prefix>/data/<key>`, or undefined when the member is missing. */
  storage(key: string): Uint8Array | undefined;
  /** Content of `<prefix>/byteorder` when present (`little` or `big`). */
  readonly byteOrder: string | null;
  /** Every member name, for diagnostics. */
  readonly names: readonly string[];
}

/** True when the bytes start like a zip local file header (`PK\x03\x04`) or an empty zip. */
export function looksLikeZip(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 4 &&
    bytes[0] === 0x50 &&
    bytes[1] === 0x4b &&
    ((bytes[2] === 0x03 && bytes[3] === 0x04) || (bytes[2] === 0x05 && bytes[3] === 0x06))
  );
}

/** Looks for the end-of-central-directory record (`PK\x05\x06`) in the last 64 KiB + 22 bytes. */
function hasEndOfCentralDirectory(bytes: Uint8Array): boolean {
  const stop = Math.max(0, bytes.length - 65557);
  for (let i = bytes.length - 22; i >= stop; i--) {
    if (bytes[i] === 0x50 && bytes[i + 1] === 0x4b && bytes[i + 2] === 0x05 && bytes[i + 3] === 0x06) return true;
  }
  return false;
}

function zipError(file: string, detail: string): WeightsFormatError {
  return new WeightsFormatError(
    file,
    `not a valid PyTorch checkpoint (zip archive is damaged or truncated): ${detail}; re-download or re-export it`,
  );
}

/**
 * Checks every central-directory entry before fflate allocates anything: fflate trusts the
 * declared uncompressed size (it allocates it up front) and the entry count, so a few hundred
 * crafted bytes could ask for gigabytes or loop billions of times. Follows APPNOTE.TXT 4.3.12-16
 * (zip64 sizes in extra field 0x0001).
 */
function checkDirectory(bytes: Uint8Array, file: string): void {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (at: number): number => (at >= 0 && at + 2 <= bytes.length ? v.getUint16(at, true) : -1);
  const u32 = (at: number): number => (at >= 0 && at + 4 <= bytes.length ? v.getUint32(at, true) : -1);
  const u64 = (at: number): number => (at >= 0 && at + 8 <= bytes.length ? Number(v.getBigUint64(at, true)) : -1);
  let e = bytes.length - 22;
  while (e >= 0 && u32(e) !== 0x06054b50) e--;
  let count = u16(e + 10);
  let at = u32(e + 16);
  const zip64 = e >= 20 && u32(e - 20) === 0x07064b50;
  if (zip64) {
    const z = u64(e - 12);
    if (z >= 0 && u32(z) === 0x06064b50) {
      count = u64(z + 32);
      at = u64(z + 48);
    }
  }
  // a central-directory entry takes at least 46 bytes
  if (count < 0 || at < 0 || count * 46 > bytes.length) {
    throw zipError(file, `the directory claims ${count} members, more than the file can hold`);
  }
  let total = 0;
  for (let i = 0; i < count; i++) {
    if (u32(at) !== 0x02014b50) throw zipError(file, `member ${i} of the directory is missing`);
    const method = u16(at + 10);
    let packed = u32(at + 20);
    let size = u32(at + 24);
    const nameLen = u16(at + 28);
    const extraLen = u16(at + 30);
    let local = u32(at + 42);
    const name = new TextDecoder().decode(bytes.subarray(at + 46, at + 46 + nameLen));
    if (zip64 || size === 0xffffffff || packed === 0xffffffff || local === 0xffffffff) {
      for (let x = at + 46 + nameLen; x + 4 <= at + 46 + nameLen + extraLen; x += 4 + u16(x + 2)) {
        if (u16(x) !== 1) continue;
        let f = x + 4;
        if (size === 0xffffffff) {
          size = u64(f);
          f += 8;
        }
        if (packed === 0xffffffff) {
          packed = u64(f);
          f += 8;
        }
        if (local === 0xffffffff) local = u64(f);
        break;
      }
    }
    if (u32(local) !== 0x04034b50) throw zipError(file, `member ${name} has no local header`);
    const dataStart = local + 30 + u16(local + 26) + u16(local + 28);
    if (packed < 0 || dataStart + packed > bytes.length) {
      throw zipError(file, `member ${name} declares ${packed} bytes, beyond the end of the file`);
    }
    if (method === 0 && size !== packed) {
      throw zipError(file, `stored member ${name} declares ${size} bytes but holds ${packed}`);
    }
    if (method === 8 && size > packed * WEIGHTS_LIMITS.ZIP_MAX_DEFLATE_RATIO + 64) {
      throw limitError(
        file,
        'ZIP_MAX_DEFLATE_RATIO',
        `member ${name} declares ${size} bytes from ${packed} compressed`,
      );
    }
    if (size < 0 || size > WEIGHTS_LIMITS.ZIP_MAX_MEMBER_BYTES) {
      throw limitError(file, 'ZIP_MAX_MEMBER_BYTES', `member ${name} declares ${size} bytes`);
    }
    total += size;
    if (total > WEIGHTS_LIMITS.ZIP_MAX_TOTAL_BYTES) {
      throw limitError(file, 'ZIP_MAX_TOTAL_BYTES', `the members declare more than ${total - size} bytes in all`);
    }
    at += 46 + nameLen + extraLen + u16(at + 32);
  }
}

/** Opens a PyTorch checkpoint zip held in memory. Throws WeightsFormatError when it is damaged. */
export function openTorchZip(bytes: Uint8Array, file: string): TorchZip {
  if (!looksLikeZip(bytes)) throw zipError(file, 'it does not start with a zip header');
  if (!hasEndOfCentralDirectory(bytes)) {
    throw zipError(
      file,
      `the end-of-archive directory is missing, so the file (${bytes.length} bytes) was probably cut short`,
    );
  }
  checkDirectory(bytes, file);
  let members: Record<string, Uint8Array>;
  try {
    members = unzipSync(bytes);
  } catch (err) {
    throw zipError(file, err instanceof Error ? err.message : String(err));
  }
  const names = Object.keys(members);
  const pkl = names.find((n) => n === 'data.pkl' || n.endsWith('/data.pkl'));
  if (pkl === undefined) {
    throw new WeightsFormatError(
      file,
      `is a zip archive but not a PyTorch checkpoint (no data.pkl among ${names.length} members); ` +
        `export the model with torch.save or use a YOLOv5 .pt file`,
    );
  }
  const prefix = pkl.slice(0, pkl.length - 'data.pkl'.length);
  const byteOrderBytes = members[`${prefix}byteorder`];
  return {
    prefix,
    pickle: members[pkl]!,
    storage: (key: string) => members[`${prefix}data/${key}`],
    byteOrder: byteOrderBytes ? new TextDecoder().decode(byteOrderBytes).trim() : null,
    names,
  };
}
