/**
 * `~` in command inputs. The contract (src/shared, no Node) cannot know the home folder, so the
 * service expands it after validation: every string the command's schema declares with
 * `pathSchema` (or `modelSpecSchema` and `hypSchema`: a built-in size or hyp preset never starts with `~`) that is `~` or starts
 * with `~/` becomes a path in the service user's home. Whatever the host: CLI, web, Electron.
 */
import type { z } from 'zod';
import { hypSchema, modelSpecSchema, pathSchema } from '../../shared/train-config.js';
import { expandHome } from '../files.js';

/** The zod 4 definition of a schema, as far as this walk reads it. */
interface Def {
  readonly type: string;
  readonly innerType?: z.ZodType;
  readonly shape?: Record<string, z.ZodType>;
  readonly element?: z.ZodType;
  readonly options?: readonly z.ZodType[];
  readonly in?: z.ZodType;
  readonly out?: z.ZodType;
  readonly valueType?: z.ZodType;
  readonly items?: readonly z.ZodType[];
  readonly left?: z.ZodType;
  readonly right?: z.ZodType;
  readonly getter?: () => z.ZodType;
}

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

// `.describe()` and `.meta()` clone a schema with the same definition, so compare definitions.
const PATH_DEFS: ReadonlySet<Def> = new Set([defOf(pathSchema), defOf(modelSpecSchema), defOf(hypSchema)]);

const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'readonly', 'catch', 'nonoptional']);

const holdsPaths = new WeakMap<z.ZodType, boolean>();

/** Whether a schema has a path anywhere inside (cached; recursion through `lazy` is cut). */
function hasPath(schema: z.ZodType, seen = new Set<z.ZodType>()): boolean {
  const cached = holdsPaths.get(schema);
  if (cached !== undefined) return cached;
  if (seen.has(schema)) return false;
  seen.add(schema);
  const found = children(schema).some((child) => hasPath(child, seen)) || PATH_DEFS.has(defOf(schema));
  holdsPaths.set(schema, found);
  return found;
}

function children(schema: z.ZodType): z.ZodType[] {
  const def = defOf(schema);
  if (WRAPPERS.has(def.type) && def.innerType) return [def.innerType];
  switch (def.type) {
    case 'object':
      return Object.values(def.shape ?? {});
    case 'array':
      return def.element ? [def.element] : [];
    case 'union':
      return [...(def.options ?? [])];
    case 'pipe':
      return def.out && defOf(def.out).type !== 'transform' ? [def.out] : [];
    case 'record':
      return def.valueType ? [def.valueType] : [];
    case 'tuple':
      return [...(def.items ?? [])];
    case 'intersection':
      return [def.left, def.right].filter((s): s is z.ZodType => s !== undefined);
    case 'lazy':
      return def.getter ? [def.getter()] : [];
    default:
      return [];
  }
}

/** A copy of `value` (the parsed output of `schema`) with `~` expanded in its path fields. */
export function expandHomeInPaths<T>(schema: z.ZodType, value: T, home: string): T {
  return walk(schema, value, home) as T;
}

function walk(schema: z.ZodType, value: unknown, home: string): unknown {
  if (value === undefined || value === null || !hasPath(schema)) return value;
  const def = defOf(schema);
  if (PATH_DEFS.has(def)) return typeof value === 'string' ? expandHome(value, home) : value;
  if (WRAPPERS.has(def.type) && def.innerType) return walk(def.innerType, value, home);
  switch (def.type) {
    case 'object': {
      if (typeof value !== 'object') return value;
      const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
      for (const [key, child] of Object.entries(def.shape ?? {})) {
        if (key in out) out[key] = walk(child, out[key], home);
      }
      return out;
    }
    case 'array':
      return Array.isArray(value) && def.element ? value.map((v) => walk(def.element!, v, home)) : value;
    case 'tuple':
      return Array.isArray(value) ? value.map((v, i) => (def.items?.[i] ? walk(def.items[i], v, home) : v)) : value;
    case 'record': {
      if (typeof value !== 'object' || !def.valueType) return value;
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(def.valueType!, v, home)]));
    }
    case 'union': {
      // The option the value is (the first that accepts it), as the parse chose.
      const option = def.options?.find((o) => o.safeParse(value).success);
      return option ? walk(option, value, home) : value;
    }
    case 'intersection':
      return [def.left, def.right].reduce<unknown>((v, s) => (s ? walk(s, v, home) : v), value);
    default: {
      const [child] = children(schema);
      return child ? walk(child, value, home) : value;
    }
  }
}
