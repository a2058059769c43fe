import type { Handlers } from '../../../shared/contract.js';
import type { ServiceContext } from '../service.js';
import { runTask } from '../tasks/offload.js';

type DataHandlers = Pick<Handlers<ServiceContext>, 'data.check'>;

export const dataHandlers: DataHandlers = {
  // Off the event loop: checking thousands of images must not stall the service (and `serve`).
  'data.check': (args) => runTask('data.check', args, `Checking ${args.data}`),
};
