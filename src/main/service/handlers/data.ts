import type { Handlers } from '../../../shared/contract.js';
import { checkDataset } from '../../engine/data/check.js';
import type { ServiceContext } from '../service.js';

type DataHandlers = Pick<Handlers<ServiceContext>, 'data.check'>;

export const dataHandlers: DataHandlers = {
  async 'data.check'(args) {
    return checkDataset(args.data);
  },
};
