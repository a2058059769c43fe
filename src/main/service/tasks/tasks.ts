/** Work that reads users' files and may take long: run in a task thread (see offload.ts). */
import type { CommandArgs, CommandOutput } from '../../../shared/contract.js';
import { checkDataset } from '../../engine/data/check.js';
import { modelArch } from './model-arch.js';

export const TASKS = {
  'model.arch': (args: CommandArgs<'model.arch'>): Promise<CommandOutput<'model.arch'>> => modelArch(args),
  'data.check': (args: CommandArgs<'data.check'>): Promise<CommandOutput<'data.check'>> => checkDataset(args.data),
} as const;

export type TaskName = keyof typeof TASKS;
