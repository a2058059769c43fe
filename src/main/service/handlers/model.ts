import type { Handlers } from '../../../shared/contract.js';
import type { ServiceContext } from '../service.js';
import { runTask } from '../tasks/offload.js';

type ModelHandlers = Pick<Handlers<ServiceContext>, 'model.arch'>;

export const modelHandlers: ModelHandlers = {
  // Off the event loop: a big or crafted weights file must not stall the service (and `serve`).
  'model.arch': (args) => runTask('model.arch', args, `Reading ${args.model}`),
};
