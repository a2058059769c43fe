import type { Handlers } from '../../../shared/contract.js';
import type { datasetCommands } from '../../../shared/commands/dataset.js';
import { renderPreview } from '../../engine/infer/preview.js';
import type { ServiceContext } from '../service.js';

type AreaHandlers = Pick<Handlers<ServiceContext>, keyof typeof datasetCommands>;

export const datasetHandlers: AreaHandlers = {
  async 'data.image'(args) {
    const { jpeg, width, height } = await renderPreview(args.path, args.maxSize);
    return { dataUrl: `data:image/jpeg;base64,${jpeg.toString('base64')}`, width, height };
  },
};
