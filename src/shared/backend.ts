/** The TensorFlow.js backends the engine can run on: one list for the CLI, the service, the UI and the engine. */
import { z } from 'zod';

/** Backends, fastest first (the order the engine tries them in when none is asked for). */
export const backendSchema = z.enum(['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']);
export type BackendName = z.infer<typeof backendSchema>;
export const BACKENDS: readonly BackendName[] = backendSchema.options;
