import type { Handlers } from '../../../shared/contract.js';
import type { modelExportCommands } from '../../../shared/commands/model-export.js';
import type { ServiceContext } from '../service.js';

type AreaHandlers = Pick<Handlers<ServiceContext>, keyof typeof modelExportCommands>;

export const modelExportHandlers: AreaHandlers = {};
