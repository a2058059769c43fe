/**
 * How a command of the contract is declared: a zod schema for its input (validated on the main
 * side, whatever the host) and, as a phantom type, its output. The contract's areas
 * (`src/shared/commands/*.ts`) and `contract.ts` declare their commands with `command<O>()(schema)`.
 */
import { z } from 'zod';

export interface CommandSpec<I extends z.ZodType, O> {
  readonly input: I;
  /** Phantom: carries the output type only. */
  readonly output?: O;
}

export function command<O>() {
  return <I extends z.ZodType>(input: I): CommandSpec<I, O> => ({ input });
}

export const noInput = z.object({}).strict();
