import type { CliCommand } from '../cli.js';
import { serviceFor } from '../service-factory.js';

export const infoCommand: CliCommand = {
  name: 'info',
  summary: 'Show the version, the TensorFlow.js backend that loads here (why not others; GPU or CPU), and data paths.',
  help: 'Usage: freezelab info [--backend NAME] [--db FILE] [--json]',
  options: { backend: { type: 'string' } },
  async run(values, _positionals, io) {
    const result = await serviceFor('cli', values).call('app.info', {});
    if (!result.ok) {
      io.err(`freezelab info: ${result.error.message}\n`);
      return 1;
    }
    const info = result.value;
    if (values.json) {
      io.out(`${JSON.stringify(info, null, 2)}\n`);
      return 0;
    }
    const lines = [
      `${info.name} ${info.version} (TensorFlow.js ${info.tfjsVersion}, Node ${info.node}, ${info.platform})`,
      `Backend:  ${info.backend.name}`,
      ...info.backend.attempts.filter((a) => !a.ok).map((a) => `          not ${a.name}: ${a.reason ?? 'failed'}`),
      `Device:   ${info.backend.device.detail}`,
      `Database: ${info.databasePath}`,
      `Data:     ${info.dataDir}`,
    ];
    io.out(`${lines.join('\n')}\n`);
    return 0;
  },
};
