import type { Handlers } from '../../../shared/contract.js';
import type { fileCommands } from '../../../shared/commands/files.js';
import type { ServiceContext } from '../service.js';

type AreaHandlers = Pick<Handlers<ServiceContext>, keyof typeof fileCommands>;

export const fileHandlers: AreaHandlers = {};
