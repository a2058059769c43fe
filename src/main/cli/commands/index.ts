import type { CliCommand } from '../cli.js';
import { archCommand } from './arch.js';
import { detectCommand } from './detect.js';
import { valCommand } from './val.js';
import { infoCommand } from './info.js';
import { serveCommand } from './serve.js';

/** Every `freezelab` subcommand, in the order `--help` lists them. */
export const cliCommands: readonly CliCommand[] = [serveCommand, infoCommand, archCommand, detectCommand, valCommand];
