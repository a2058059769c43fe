/** Entry point of the `freezelab` bin. */
import { runCli } from './cli.js';
import { cliCommands } from './commands/index.js';

const code = await runCli(process.argv.slice(2), cliCommands, {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  env: process.env,
});
process.exitCode = code;
