/**
 * Reads the zip container of a PyTorch checkpoint (torch.save's "new" format since PyTorch 1.6):
 * `<prefix>/data.pkl`, `<prefix>/data/<key>` raw storages, `<prefix>/version`. The prefix is
 * `archive/` for recent PyTorch and the file stem for older ones, so it is discovered, not assumed.
 */
import { unzipSync } from 'fflate';
import { WeightsFormatError } from './errors.js';

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

/** Opens a PyTorch checkpoint zip held in memory. Throws WeightsFormatError when it is damaged. */
export function openTorchZip(bytes: Uint8Array, file: string): TorchZip {
  if (!looksLikeZip(bytes)) throw zipError(file, 'it does not start with a zip header');
  if (!hasEndOfCentralDirectory(bytes)) {
    throw zipError(
      file,
      `the end-of-archive directory is missing, so the file (${bytes.length} bytes) was probably cut short`,
    );
  }
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
