import type { Handlers } from '../../../shared/contract.js';
import type { datasetCommands } from '../../../shared/commands/dataset.js';
import type { ServiceContext } from '../service.js';

type AreaHandlers = Pick<Handlers<ServiceContext>, keyof typeof datasetCommands>;

export const datasetHandlers: AreaHandlers = {};
