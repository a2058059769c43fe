import type { Handlers } from '../../../shared/contract.js';
import type { ServiceContext } from '../service.js';

type JobHandlers = Pick<Handlers<ServiceContext>, 'jobs.list' | 'jobs.get' | 'jobs.cancel'>;

export const jobHandlers: JobHandlers = {
  'jobs.list': (_args, ctx) => Promise.resolve(ctx.jobs.list()),
  'jobs.get': (args, ctx) => Promise.resolve(ctx.jobs.get(args.id)),
  'jobs.cancel': (args, ctx) => Promise.resolve(ctx.jobs.cancel(args.id)),
};
