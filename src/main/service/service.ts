/**
 * The one service behind every host. Hosts (Electron IPC, the web host, the CLI) call `dispatch`
 * with an untrusted command name and input; the service validates both against the contract and
 * answers a `Result`, never throws.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import {
  commands,
  isCommandName,
  type CommandArgs,
  type CommandName,
  type CommandOutput,
  type Handlers,
} from '../../shared/contract.js';
import { FreezeLabError, type Result, type ServiceError } from '../../shared/result.js';
import { homeDirOf, type DataPaths } from '../paths.js';
import { expandHomeInPaths } from './home-paths.js';
import { EventBus } from '../jobs/events.js';
import { appHandlers } from './handlers/app.js';
import { modelHandlers } from './handlers/model.js';
import type { BackendReport } from '../engine/tf/backend.js';
import { DatabaseWatcher } from '../jobs/db-watch.js';
import { JobRunner } from '../jobs/runner.js';
import { forkWorker, workerEntry, type WorkerSpawner } from '../jobs/spawn.js';
import { openStore, type Db } from '../store/index.js';
import { dataHandlers } from './handlers/data.js';
import { inferenceHandlers } from './handlers/inference.js';
import { demoHandlers } from './handlers/demo.js';
import { runHandlers } from './handlers/runs.js';
import { jobHandlers } from './handlers/jobs.js';
import { datasetHandlers } from './handlers/dataset.js';
import { predictionHandlers } from './handlers/predictions.js';
import { prelabelHandlers } from './handlers/prelabel.js';
import { modelExportHandlers } from './handlers/model-export.js';
import { fileHandlers } from './handlers/files.js';
import { clusterHandlers } from './handlers/cluster.js';
import { BackgroundJobs } from './background.js';

export type HostKind = 'electron' | 'web' | 'cli';

export interface ServiceOptions {
  readonly host: HostKind;
  readonly paths: DataPaths;
  /** Loads (once) the best TensorFlow.js backend; injected so tests and hosts can choose. */
  readonly loadBackend: () => Promise<BackendReport>;
  /**
   * Whether this process trains queued runs (the app and `serve`, `train`, `sweep`); other CLI
   * commands only read and queue. Default true.
   */
  readonly runJobs?: boolean;
  /** How worker processes start: child processes by default, Electron utility processes in the app. */
  readonly spawnWorker?: WorkerSpawner;
}

/** What every handler can use. */
export interface ServiceContext extends ServiceOptions {
  readonly events: EventBus;
  /** Background jobs (pre-labelling, predictions): progress events, cancel. */
  readonly jobs: BackgroundJobs;
  backend(): Promise<BackendReport>;
  /** The run database, opened (and migrated) on first use. */
  store(): Db;
  /** The job runner, when this process runs jobs. */
  runner(): JobRunner | undefined;
}

export interface Service {
  readonly context: ServiceContext;
  readonly events: EventBus;
  dispatch(name: string, input: unknown): Promise<Result<unknown>>;
  /** Typed call for in-process hosts (CLI). */
  call<K extends CommandName>(name: K, input: unknown): Promise<Result<CommandOutput<K>>>;
  /** Stops running jobs (they stay resumable) and closes the database. */
  close(): Promise<void>;
}

export function createService(options: ServiceOptions): Service {
  const events = new EventBus();
  const jobs = new BackgroundJobs(events, toServiceError);
  let backendPromise: Promise<BackendReport> | undefined;
  let db: Db | undefined;
  let runner: JobRunner | undefined;
  let watcher: DatabaseWatcher | undefined;
  const store = (): Db => {
    if (!db) {
      db = openStore(options.paths.databasePath);
      // Runs other processes start, finish or advance reach this process's list and followers.
      watcher = new DatabaseWatcher(db, events, () => runner?.activeRunIds ?? []);
      watcher.start();
      if (options.runJobs !== false) {
        runner = new JobRunner({
          db,
          dbPath: options.paths.databasePath,
          runsDir: options.paths.runsDir,
          events,
          spawn: options.spawnWorker ?? forkWorker,
          workerEntry: workerEntry(),
        });
        runner.start();
      }
    }
    return db;
  };
  const context: ServiceContext = {
    ...options,
    events,
    jobs,
    backend: () => (backendPromise ??= options.loadBackend()),
    store,
    runner: () => (store(), runner),
  };
  const handlers: Handlers<ServiceContext> = {
    ...appHandlers,
    ...modelHandlers,
    ...inferenceHandlers,
    ...dataHandlers,
    ...runHandlers,
    ...demoHandlers,
    ...jobHandlers,
    ...datasetHandlers,
    ...predictionHandlers,
    ...prelabelHandlers,
    ...modelExportHandlers,
    ...fileHandlers,
    ...clusterHandlers,
  };

  async function dispatch(name: string, input: unknown): Promise<Result<unknown>> {
    if (typeof name !== 'string' || !isCommandName(name)) {
      return {
        ok: false,
        error: {
          code: 'unknown-command',
          message: `Unknown command ${JSON.stringify(name)}.`,
          hint: `Known commands: ${Object.keys(commands).join(', ')}.`,
        },
      };
    }
    const schema = commands[name].input;
    const parsed = schema.safeParse(input ?? {});
    if (!parsed.success) return { ok: false, error: invalidInput(name, parsed.error) };
    // `~` and `~/…` in path fields: the service user's home (the contract has no Node to know it).
    const args = expandHomeInPaths(schema, parsed.data, homeDirOf(options.paths));
    const handler = handlers[name] as (args: CommandArgs<CommandName>, ctx: ServiceContext) => Promise<unknown>;
    try {
      return { ok: true, value: await handler(args as CommandArgs<CommandName>, context) };
    } catch (error) {
      const serviceError = toServiceError(error);
      if (serviceError.code !== 'internal') return { ok: false, error: serviceError };
      // A real fault: the user gets where the details are, for a bug report.
      const log = logInternalError(options.paths.dataDir, name, error);
      return {
        ok: false,
        error: { ...serviceError, hint: `This is a FreezeLab bug${log ? `; the details are in ${log}` : ''}.` },
      };
    }
  }

  return {
    context,
    events,
    dispatch,
    call: (name, input) => dispatch(name, input) as never,
    async close() {
      await jobs.close();
      watcher?.stop();
      watcher = undefined;
      await runner?.close();
      db?.close();
      db = undefined;
    },
  };
}

function invalidInput(name: string, error: z.ZodError): ServiceError {
  const issues = error.issues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(input)',
    message: issue.message,
  }));
  return {
    code: 'invalid-input',
    message: `Invalid input for ${name}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}.`,
    issues,
  };
}

export function toServiceError(error: unknown): ServiceError {
  if (error instanceof FreezeLabError) {
    return { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'internal', message, hint: 'This is a FreezeLab bug; the message says what failed.' };
}

/** Appends an internal fault (command, message, stack) to `<dataDir>/logs/errors.log`; its path, or undefined if unwritable. */
export function logInternalError(dataDir: string, command: string, error: unknown): string | undefined {
  const file = path.join(dataDir, 'logs', 'errors.log');
  const detail = error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    appendFileSync(file, `${new Date().toISOString()} ${command}\n${detail}\n\n`);
    return file;
  } catch {
    return undefined; // a log that cannot be written must not hide the error itself
  }
}
