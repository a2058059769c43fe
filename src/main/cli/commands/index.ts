import type { CliCommand } from '../cli.js';
import { archCommand } from './arch.js';
import { checkCommand } from './check.js';
import { demoCommand } from './demo.js';
import { cancelCommand, compareCommand, exportCommand, resumeCommand, runsCommand } from './runs.js';
import { sweepCommand, trainCommand } from './train.js';
import { detectCommand } from './detect.js';
import { valCommand } from './val.js';
import { predictionsCommand } from './predictions.js';
import { infoCommand } from './info.js';
import { serveCommand } from './serve.js';
import { importCommand } from './import.js';

/** Every `freezelab` subcommand, in the order `--help` lists them. */
export const cliCommands: readonly CliCommand[] = [
  serveCommand,
  infoCommand,
  archCommand,
  checkCommand,
  detectCommand,
  valCommand,
  predictionsCommand,
  trainCommand,
  sweepCommand,
  importCommand,
  runsCommand,
  compareCommand,
  resumeCommand,
  cancelCommand,
  exportCommand,
  demoCommand,
];
