/**
 * The `freezelab` command line: a thin host over the same service as the window and the web host.
 * Each subcommand lives in `commands/` and registers itself in `commands/index.ts`.
 */
import os from 'node:os';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { printable } from '../../shared/format.js';
import { FreezeLabError } from '../../shared/result.js';
import { expandHomeInArgs } from '../files.js';
import { packageInfo } from '../version.js';

export interface CliIO {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  /** Ends a long-running command (serve) when it resolves, as SIGINT or SIGTERM do (for tests). */
  readonly stop?: Promise<void>;
}

type OptionSpec = NonNullable<ParseArgsConfig['options']>;
export type CliValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

export interface CliCommand {
  readonly name: string;
  readonly summary: string;
  /** Usage line(s) and option help, shown by `freezelab <name> --help`. */
  readonly help: string;
  readonly options: OptionSpec;
  readonly allowPositionals?: boolean;
  /** Resolves to the process exit code; long-running commands (serve) resolve when they end. */
  run(values: CliValues, positionals: string[], io: CliIO): Promise<number>;
}

/**
 * Raised for a wrong command line: the message is shown with the subcommand's help hint, unless
 * the message already names the way out (`pointToHelp: false`), so it stays one line.
 */
export class UsageError extends Error {
  readonly pointToHelp: boolean;
  constructor(message: string, opts: { pointToHelp?: boolean } = {}) {
    super(message);
    this.pointToHelp = opts.pointToHelp ?? true;
  }
}

export const commonOptions = {
  db: { type: 'string' },
  home: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies OptionSpec;

export async function runCli(argv: string[], commands: readonly CliCommand[], raw: CliIO): Promise<number> {
  // Names and paths come from users' files (class names, folders): their control characters are
  // shown escaped, never sent to the terminal as commands.
  const io: CliIO = { ...raw, out: (t) => raw.out(printable(t)), err: (t) => raw.err(printable(t)) };
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.out(mainHelp(commands));
    return 0;
  }
  if (name === '--version' || name === '-v') {
    io.out(`${packageInfo().version}\n`);
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    io.err(`freezelab: unknown command '${name}'. Run 'freezelab --help' for the list.\n`);
    return 2;
  }
  let values: CliValues;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: rest,
      options: { ...commonOptions, ...command.options },
      allowPositionals: command.allowPositionals ?? false,
      strict: true,
    }));
  } catch (error) {
    io.err(`freezelab ${name}: ${(error as Error).message}\nRun 'freezelab ${name} --help' for usage.\n`);
    return 2;
  }
  // `~` where the shell did not expand it (`--data=~/x`, quotes): the user's home.
  ({ values, positionals } = expandHomeInArgs(values, positionals, io.env.HOME || os.homedir()));
  if (values.help) {
    io.out(`${command.summary}\n\n${command.help}\n`);
    return 0;
  }
  try {
    return await command.run(values, positionals, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`freezelab ${name}: ${error.message}\n`);
      if (error.pointToHelp) io.err(`Run 'freezelab ${name} --help' for usage.\n`);
      return 2;
    }
    // Every failure is one line; the stack trace only on request (it helps a bug report, not a user).
    io.err(failureLine(name, error));
    if (io.env.FREEZELAB_DEBUG) io.err(`${(error as Error)?.stack ?? String(error)}\n`);
    else if (!(error instanceof FreezeLabError)) io.err('(set FREEZELAB_DEBUG=1 to see where it failed)\n');
    return 1;
  }
}

function mainHelp(commands: readonly CliCommand[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    `FreezeLab ${packageInfo().version}: transfer learning with frozen layers on YOLOv5 detectors.`,
    '',
    'Usage: freezelab <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    'Common options: --home DIR (or FREEZELAB_HOME) the data folder: database and run checkpoints;',
    '--db FILE (or FREEZELAB_DB) the database file only; --json machine-readable output; --help.',
    "Run 'freezelab <command> --help' for a command's options.",
    '',
  ].join('\n');
}

/** Parses an integer option, with a usage error that names it. */
export function intOption(
  values: CliValues,
  name: string,
  fallback: number,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (typeof raw !== 'string' || !Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`--${name} takes a whole number from ${min} to ${max}, got '${String(raw)}'.`);
  }
  return value;
}

/** A required string option, with a usage error naming it. */
export function stringOption(values: CliValues, name: string): string {
  const raw = values[name];
  if (typeof raw !== 'string' || raw.trim() === '') throw new UsageError(`--${name} is required.`);
  return raw;
}

/** A number option within [min, max], with a usage error naming it. */
export function floatOption(values: CliValues, name: string, fallback: number, min: number, max: number): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(value) || value < min || value > max) {
    throw new UsageError(`--${name} takes a number from ${min} to ${max}, got '${String(raw)}'.`);
  }
  return value;
}

/** One line for a user-facing failure: the message, then the hint when there is one. */
export function failureLine(command: string, error: unknown): string {
  const e = error instanceof Error ? error : new Error(String(error));
  const hint = e instanceof FreezeLabError && e.hint ? ` ${e.hint}` : '';
  return `freezelab ${command}: ${e.message.split('\n')[0]}${hint}\n`;
}
