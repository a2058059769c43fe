/**
 * The one contract between the service (main side) and its clients (Electron renderer, browser
 * renderer through the web host, CLI). Commands are request -> response; events are pushed.
 *
 * Each command names a zod schema for its input (validated on the main side, whatever the host)
 * and, as a phantom type, its output. The main side implements `Handlers`, so a missing handler
 * fails `tsc`; the renderer's client is `Client`, derived from the same map.
 */
import { z } from 'zod';
import type { ArchDescription } from './arch.js';
import type { FreezePreset } from './freeze.js';
import type { Result } from './result.js';

interface CommandSpec<I extends z.ZodType, O> {
  readonly input: I;
  /** Phantom: carries the output type only. */
  readonly output?: O;
}

function command<O>() {
  return <I extends z.ZodType>(input: I): CommandSpec<I, O> => ({ input });
}

const noInput = z.object({}).strict();

// ---- Outputs -------------------------------------------------------------------------------

export interface BackendAttempt {
  readonly name: string;
  readonly ok: boolean;
  /** Why it did not load (absent when it loaded). */
  readonly reason?: string;
}

export interface AppInfo {
  readonly name: string;
  readonly version: string;
  /** The TensorFlow.js backend that actually loaded, and every backend tried before it. */
  readonly backend: { readonly name: string; readonly attempts: readonly BackendAttempt[] };
  readonly tfjsVersion: string;
  readonly databasePath: string;
  readonly dataDir: string;
  readonly host: 'electron' | 'web' | 'cli';
  readonly platform: string;
  readonly node: string;
}

export interface FreezePresetInfo {
  readonly id: FreezePreset;
  readonly label: string;
  readonly description: string;
  readonly frozenModules: readonly number[];
  readonly trainableParams: number;
}

export interface ModelArchInfo {
  /** Where the model came from: a built-in size, a model YAML, or a weights file. */
  readonly source: { readonly kind: 'builtin' | 'yaml' | 'weights'; readonly label: string; readonly file?: string };
  readonly arch: ArchDescription;
  /** The presets resolved against this model's graph. */
  readonly presets: readonly FreezePresetInfo[];
  readonly names: readonly string[];
}

// ---- Input schemas --------------------------------------------------------------------------

/** A model: built-in size (n, s, m, l, x, yolov5n...), or a path to a .yaml, .pt or .safetensors. */
export const modelSpecSchema = z.string().trim().min(1, 'name a model: n, s, m, l, x, or a .yaml/.pt file').max(4096);
export const imgSizeSchema = z
  .number()
  .int()
  .min(32)
  .max(2048)
  .refine((v) => v % 32 === 0, 'image size must be a multiple of 32');
export const ncSchema = z.number().int().min(1).max(1000);
export const freezeTextSchema = z.string().trim().max(1000);

// ---- The command map ------------------------------------------------------------------------

export const commands = {
  'app.info': command<AppInfo>()(noInput),
  /** Architecture of a model, with what a freeze spec freezes and the presets' trainable counts. */
  'model.arch': command<ModelArchInfo>()(
    z
      .object({
        model: modelSpecSchema,
        nc: ncSchema.optional(),
        imgSize: imgSizeSchema.default(640),
        freeze: freezeTextSchema.optional(),
      })
      .strict(),
  ),
} as const;

export type Commands = typeof commands;
export type CommandName = keyof Commands;
/** What a client sends (before defaults are applied). */
export type CommandInput<K extends CommandName> = z.input<Commands[K]['input']>;
/** What a handler receives (after validation and defaults). */
export type CommandArgs<K extends CommandName> = z.output<Commands[K]['input']>;
export type CommandOutput<K extends CommandName> = NonNullable<Commands[K]['output']>;

export function isCommandName(name: string): name is CommandName {
  return Object.prototype.hasOwnProperty.call(commands, name);
}

// ---- The event map --------------------------------------------------------------------------

export interface Events {
  /** A line for the status bar / log (service-wide notices). */
  'app.notice': { readonly level: 'info' | 'warning' | 'error'; readonly message: string };
}

export type EventName = keyof Events;
export interface EventMessage<K extends EventName = EventName> {
  readonly event: K;
  readonly payload: Events[K];
}

// ---- Derived sides ----------------------------------------------------------------------------

/** The main side: one handler per command, or `tsc` fails. */
export type Handlers<Ctx> = {
  [K in CommandName]: (args: CommandArgs<K>, ctx: Ctx) => Promise<CommandOutput<K>>;
};

/** The renderer/CLI side: one method per command, answering a `Result`. */
export type Client = {
  [K in CommandName]: (input: CommandInput<K>) => Promise<Result<CommandOutput<K>>>;
};

/** What a host must provide to a client: the one generic call and the event stream. */
export interface Transport {
  invoke(name: CommandName, input: unknown): Promise<Result<unknown>>;
  /** Returns an unsubscribe function. */
  onEvent(listener: (message: EventMessage) => void): () => void;
}

/** Builds the typed client over any transport. */
export function createClient(transport: Transport): Client {
  const client = {} as Record<string, (input: unknown) => Promise<Result<unknown>>>;
  for (const name of Object.keys(commands) as CommandName[]) {
    client[name] = (input) => transport.invoke(name, input);
  }
  return client as unknown as Client;
}
