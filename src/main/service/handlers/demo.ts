import type { Handlers } from '../../../shared/contract.js';
import { sweepRequestSchema } from '../../../shared/train-config.js';
import { prepareDemo } from '../../demo/demo.js';
import type { ServiceContext } from '../service.js';
import { runHandlers } from './runs.js';

type DemoHandlers = Pick<Handlers<ServiceContext>, 'demo.start'>;

export const demoHandlers: DemoHandlers = {
  async 'demo.start'(_args, ctx) {
    let last = 0;
    const { request } = await prepareDemo(ctx.paths.dataDir, (done, total) => {
      // A few dozen events for the progress bar, not one per image.
      if (done === total || done - last >= Math.max(1, Math.floor(total / 40))) {
        last = done;
        ctx.events.emit('demo.progress', { done, total });
      }
    });
    return runHandlers['sweeps.start'](sweepRequestSchema.parse(request), ctx);
  },
};
