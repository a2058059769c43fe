import type { Handlers } from '../../../shared/contract.js';
import type { predictionCommands } from '../../../shared/commands/predictions.js';
import type { ServiceContext } from '../service.js';

type AreaHandlers = Pick<Handlers<ServiceContext>, keyof typeof predictionCommands>;

export const predictionHandlers: AreaHandlers = {};
