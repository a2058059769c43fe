/** Electron IPC channel names. The sandboxed preload cannot import modules, so it repeats them;
 * a test checks the compiled preload against these. */
export const IPC_INVOKE = 'freezelab:invoke';
export const IPC_EVENT = 'freezelab:event';
/** The global the preload exposes in the renderer (`window.freezelab`). */
export const PRELOAD_GLOBAL = 'freezelab';
