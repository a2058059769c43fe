import path from 'node:path';
import { packageRoot } from '../../version.js';
import { startWebHost } from '../../web/server.js';
import { intOption, type CliCommand } from '../cli.js';
import { serviceFor } from '../service-factory.js';

export const rendererDir = path.join(packageRoot, 'dist', 'renderer');

export const serveCommand: CliCommand = {
  name: 'serve',
  summary: 'Serve the FreezeLab interface on 127.0.0.1 (headless lab machines, browsers).',
  help: [
    'Usage: freezelab serve [--port N] [--home DIR] [--db FILE]',
    '',
    '  --port N   port on 127.0.0.1 (default 5199, or a free one when 5199 is taken; 0 picks a',
    '             free one)',
    '  --db FILE  database file (default: the user data folder; or FREEZELAB_DB)',
    '',
    'Prints the URL to open; it carries a token made for this launch, and requests without it are',
    'refused. The server listens on 127.0.0.1 only. Stop it with Ctrl+C.',
  ].join('\n'),
  options: { port: { type: 'string' } },
  async run(values, _positionals, io) {
    const port = intOption(values, 'port', 5199, 0, 65535);
    const service = serviceFor('web', values);
    // The default port gives way to a free one (a second launch, another app on 5199); a port
    // the user chose does not, since a tunnel or bookmark may depend on it.
    const host = await startWebHost({
      service,
      port,
      staticDir: rendererDir,
      fallbackToFreePort: values.port === undefined,
    }).catch(async (error: unknown) => {
      await service.close();
      throw error;
    });
    if (host.fallbackFrom !== undefined) {
      io.out(`Port ${host.fallbackFrom} is in use, so FreezeLab took the free port ${host.port}.\n`);
    }
    io.out(`FreezeLab is serving on ${host.url}\n`);
    await new Promise<void>((resolve) => {
      let stopping = false;
      const stop = () => {
        if (stopping) return;
        stopping = true;
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        void host.close().then(resolve);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      void io.stop?.then(stop);
    });
    await service.close();
    return 0;
  },
};
