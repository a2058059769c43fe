import { version as tfjsVersion } from '@tensorflow/tfjs';
import type { Handlers } from '../../../shared/contract.js';
import { packageInfo } from '../../version.js';
import type { ServiceContext } from '../service.js';

type AppHandlers = Pick<Handlers<ServiceContext>, 'app.info'>;

export const appHandlers: AppHandlers = {
  async 'app.info'(_args, ctx) {
    const pkg = packageInfo();
    const backend = await ctx.backend();
    return {
      name: pkg.productName ?? pkg.name,
      version: pkg.version,
      backend: { name: backend.name, attempts: backend.attempts, device: backend.device },
      tfjsVersion: tfjsVersion.tfjs,
      databasePath: ctx.paths.databasePath,
      dataDir: ctx.paths.dataDir,
      host: ctx.host,
      platform: `${process.platform}-${process.arch}`,
      node: process.versions.node,
    };
  },
};
