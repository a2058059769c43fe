import type { Handlers } from '../../../shared/contract.js';
import type { clusterCommands } from '../../../shared/commands/cluster.js';
import type { ServiceContext } from '../service.js';

type AreaHandlers = Pick<Handlers<ServiceContext>, keyof typeof clusterCommands>;

export const clusterHandlers: AreaHandlers = {};
