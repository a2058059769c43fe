import type { CliCommand } from '../cli.js';
import { exitCodeFor, followRuns } from '../follow.js';
import { serviceFor } from '../service-factory.js';
import { formatComparison } from './runs.js';

export const demoCommand: CliCommand = {
  name: 'demo',
  summary: 'Run the built-in demo: a freeze sweep on a generated dataset, then the comparison (offline, minutes).',
  help: [
    'Usage: freezelab demo [--db FILE] [--json]',
    '',
    'Generates the demo dataset (shapes on textured backgrounds, "domain B") in the data folder,',
    'fine-tunes the shipped base weights (pretrained on "domain A") with nothing, the backbone and all',
    'but Detect frozen, and prints the comparison. The same runs appear in the app.',
  ].join('\n'),
  options: {},
  async run(values, _positionals, io) {
    const service = serviceFor('cli', values);
    const unsubscribe = service.events.subscribe((m) => {
      if (m.event === 'demo.progress' && !values.json)
        io.err(`\r\x1b[2Kgenerating demo images ${m.payload.done}/${m.payload.total}`);
    });
    const started = await service.call('demo.start', {});
    unsubscribe();
    if (!started.ok) {
      await service.close();
      io.err(`\nfreezelab demo: ${started.error.message}${started.error.hint ? ` ${started.error.hint}` : ''}\n`);
      return 1;
    }
    const t0 = performance.now();
    if (!values.json) io.err(`\ndemo sweep ${started.value.sweepId}: runs ${started.value.runIds.join(', ')}\n`);
    const statuses = await followRuns(service, started.value.runIds, io, values.json === true);
    const seconds = (performance.now() - t0) / 1000;
    const comparison = await service.call('runs.compare', { ids: [...started.value.runIds] });
    await service.close();
    if (!comparison.ok) {
      io.err(`freezelab demo: ${comparison.error.message}\n`);
      return 1;
    }
    if (values.json) io.out(`${JSON.stringify({ seconds, ...comparison.value }, null, 2)}\n`);
    else io.out(`\n${formatComparison(comparison.value)}\n\nDemo sweep took ${(seconds / 60).toFixed(1)} minutes.\n`);
    return exitCodeFor(statuses.values());
  },
};
