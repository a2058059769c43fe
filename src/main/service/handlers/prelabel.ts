import type { Handlers } from '../../../shared/contract.js';
import type { prelabelCommands } from '../../../shared/commands/prelabel.js';
import type { ServiceContext } from '../service.js';

type AreaHandlers = Pick<Handlers<ServiceContext>, keyof typeof prelabelCommands>;

export const prelabelHandlers: AreaHandlers = {};
