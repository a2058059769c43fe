/**
 * The one freeze-spec parser shared by CLI, service and UI (pure: no Node, no DOM).
 *
 * Follows YOLOv5 train.py `--freeze`: one value N freezes modules 0..N-1, several values freeze
 * exactly those indices, and a parameter is frozen when its name contains `model.{i}.`.
 * Presets are resolved against the model graph (never constants): P6 models have a longer backbone.
 */
import { FreezeLabError } from './result.js';

/** Named presets; resolved by {@link resolveFreeze} against a {@link FreezeGraphSummary}. */
export type FreezePreset = 'none' | 'backbone' | 'all-but-detect';

/** A parsed freeze spec, independent of any model. */
export type FreezeSpec =
  | { readonly kind: 'preset'; readonly preset: FreezePreset }
  /** YOLOv5's single value N: modules 0..N-1. */
  | { readonly kind: 'first'; readonly count: number }
  /** Exactly these module indices (sorted, unique). */
  | { readonly kind: 'list'; readonly indices: readonly number[] };

/** What presets and range checks need to know about a model graph. */
export interface FreezeGraphSummary {
  /** Number of modules (YAML rows), e.g. 25 for YOLOv5 P5 models. */
  readonly moduleCount: number;
  /** Rows in the YAML's backbone section (10 for v5, 12 for P6). */
  readonly backboneCount: number;
  /** Index of the final Detect module. */
  readonly detectIndex: number;
}

/** Presets with labels for the UI. */
export const FREEZE_PRESETS: readonly {
  readonly id: FreezePreset;
  readonly label: string;
  readonly description: string;
}[] = [
  { id: 'none', label: 'None', description: 'Train every module (freeze 0).' },
  {
    id: 'backbone',
    label: 'Backbone',
    description: "Freeze the YAML's backbone section (modules 0-9 on YOLOv5, 0-11 on P6 models).",
  },
  {
    id: 'all-but-detect',
    label: 'All but Detect',
    description: 'Freeze everything except the final Detect output convolutions.',
  },
];

/** A freeze spec the user typed is malformed or does not fit the model. */
export class FreezeSpecError extends FreezeLabError {
  constructor(message: string) {
    super('invalid-input', message);
    this.name = 'FreezeSpecError';
  }
}

const PRESET_IDS = new Set<string>(FREEZE_PRESETS.map((p) => p.id));
const HELP =
  "use a number N (freeze modules 0..N-1), a list like '0,1,5' or '0 1 5', a range like '0-9', " +
  "or one of 'none', 'backbone', 'all-but-detect'";

function parseIndex(token: string, text: string): number {
  if (!/^\d+$/.test(token)) {
    const why = /^-\d+$/.test(token) ? 'module indices cannot be negative' : 'not a module index';
    throw new FreezeSpecError(`freeze spec '${text}': '${token}' is ${why}; ${HELP}`);
  }
  const value = Number(token);
  if (!Number.isSafeInteger(value)) {
    throw new FreezeSpecError(`freeze spec '${text}': '${token}' is too large`);
  }
  return value;
}

/** Parses user text into a spec; throws {@link FreezeSpecError} with what is wrong and what to type. */
export function parseFreezeSpec(text: string): FreezeSpec {
  const trimmed = text.trim();
  if (trimmed === '') throw new FreezeSpecError(`freeze spec is empty; ${HELP}`);
  const lower = trimmed.toLowerCase();
  if (PRESET_IDS.has(lower)) return { kind: 'preset', preset: lower as FreezePreset };
  const tokens = trimmed.split(/[\s,]+/).filter((t) => t !== '');
  if (tokens.length === 0) throw new FreezeSpecError(`freeze spec '${text}' has no indices; ${HELP}`);
  // Only a bare number is YOLOv5's "first N"; '5,' is the list [5].
  if (/^\d+$/.test(trimmed)) return { kind: 'first', count: parseIndex(trimmed, text) };
  const indices = new Set<number>();
  for (const token of tokens) {
    const range = /^(\d+)-(\d+)$/.exec(token);
    if (range) {
      const lo = parseIndex(range[1] ?? '', text);
      const hi = parseIndex(range[2] ?? '', text);
      if (hi < lo) {
        throw new FreezeSpecError(`freeze spec '${text}': range '${token}' runs backwards; write '${hi}-${lo}'`);
      }
      for (let i = lo; i <= hi; i++) indices.add(i);
    } else {
      indices.add(parseIndex(token, text));
    }
  }
  return { kind: 'list', indices: [...indices].sort((a, b) => a - b) };
}

/** Module indices a spec freezes on a given graph (sorted); throws when an index is out of range. */
export function resolveFreeze(spec: FreezeSpec, graph: FreezeGraphSummary): number[] {
  const { moduleCount, backboneCount, detectIndex } = graph;
  const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
  switch (spec.kind) {
    case 'preset':
      if (spec.preset === 'none') return [];
      if (spec.preset === 'backbone') return range(backboneCount);
      return range(moduleCount).filter((i) => i !== detectIndex);
    case 'first':
      if (spec.count > moduleCount) {
        throw new FreezeSpecError(
          `freeze ${spec.count} is more than the ${moduleCount} modules of this model ` +
            `(indices 0-${moduleCount - 1}); use at most ${moduleCount}`,
        );
      }
      return range(spec.count);
    case 'list': {
      const bad = spec.indices.filter((i) => i >= moduleCount);
      if (bad.length > 0) {
        throw new FreezeSpecError(
          `freeze module${bad.length > 1 ? 's' : ''} ${bad.join(', ')} out of range: ` +
            `this model has modules 0-${moduleCount - 1}`,
        );
      }
      return [...spec.indices];
    }
  }
}

/** YOLOv5's rule: frozen when the name contains `model.{i}.` (the dot keeps 1 from matching 10). */
export function isFrozenParam(name: string, frozenModules: Iterable<number>): boolean {
  for (const i of frozenModules) {
    if (name.includes(`model.${i}.`)) return true;
  }
  return false;
}

/** Canonical text for a spec; `parseFreezeSpec(formatFreezeSpec(s))` gives `s` back. */
export function formatFreezeSpec(spec: FreezeSpec): string {
  switch (spec.kind) {
    case 'preset':
      return spec.preset;
    case 'first':
      return String(spec.count);
    case 'list':
      // A one-element list must not read back as "first N".
      if (spec.indices.length === 0) return 'none';
      return spec.indices.length === 1 ? `${spec.indices[0]},` : spec.indices.join(',');
  }
}
