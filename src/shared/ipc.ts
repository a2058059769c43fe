/** Electron IPC channel names. The sandboxed preload cannot import modules, so it repeats them;
 * a test checks the compiled preload against these. */
import { z } from 'zod';

export const IPC_INVOKE = 'freezelab:invoke';
export const IPC_EVENT = 'freezelab:event';
/** Native open/save dialogs (Electron only). */
export const IPC_PICK_PATH = 'freezelab:pick-path';
/** Reveal a file in the system's file manager (Electron only). */
export const IPC_SHOW_IN_FOLDER = 'freezelab:show-in-folder';
/** The global the preload exposes in the renderer (`window.freezelab`). */
export const PRELOAD_GLOBAL = 'freezelab';

/** What a path field asks for: an existing file, an existing folder, or a file to write. */
export const PICK_MODES = ['open-file', 'open-folder', 'save-file'] as const;
export type PickMode = (typeof PICK_MODES)[number];

/** Extensions without the dot: `yaml`, `pt`, `tar.gz`. */
export const extensionSchema = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,15}$/, 'an extension without the dot, e.g. yaml');

/** A request to pick a path (validated in the main process: the renderer is not trusted). */
export const pickPathRequestSchema = z
  .object({
    mode: z.enum(PICK_MODES),
    extensions: z.array(extensionSchema).max(20).optional(),
    title: z.string().max(200).optional(),
    /** Where the dialog opens: the field's current value when it has one. */
    defaultPath: z.string().max(4096).optional(),
  })
  .strict();
export type PickPathRequest = z.input<typeof pickPathRequestSchema>;

export const showInFolderRequestSchema = z.string().min(1).max(4096);
