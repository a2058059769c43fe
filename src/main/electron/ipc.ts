/**
 * The Electron host's command handling, without importing `electron`, so that tests drive it
 * through the same service the web host uses. `main.ts` only wires these to ipcMain.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { pickPathRequestSchema, showInFolderRequestSchema } from '../../shared/ipc.js';
import type { Result } from '../../shared/result.js';
import { expandHome } from '../files.js';
import type { Service } from '../service/service.js';

/** Only our own renderer page may call the service (not an iframe, not a page navigated to). */
export function isTrustedSender(senderUrl: string | undefined, rendererUrl: string): boolean {
  if (!senderUrl) return false;
  try {
    const sender = new URL(senderUrl);
    const expected = new URL(rendererUrl);
    return (
      sender.protocol === expected.protocol && sender.host === expected.host && sender.pathname === expected.pathname
    );
  } catch {
    return false;
  }
}

export async function handleInvoke(
  service: Service,
  senderUrl: string | undefined,
  rendererUrl: string,
  name: unknown,
  input: unknown,
): Promise<Result<unknown>> {
  if (!isTrustedSender(senderUrl, rendererUrl)) {
    return {
      ok: false,
      error: { code: 'invalid-input', message: `Refused a command from an untrusted page (${String(senderUrl)}).` },
    };
  }
  if (typeof name !== 'string') {
    return { ok: false, error: { code: 'unknown-command', message: 'The command name must be a string.' } };
  }
  return service.dispatch(name, input);
}

// ---- Native dialogs and "Show in folder" -----------------------------------------------------

/** The options of Electron's showOpenDialog/showSaveDialog that a pick request becomes. */
export interface DialogOptions {
  readonly kind: 'open' | 'save';
  readonly title: string;
  readonly defaultPath?: string;
  readonly properties: (
    'openFile' | 'openDirectory' | 'createDirectory' | 'showHiddenFiles' | 'showOverwriteConfirmation'
  )[];
  readonly filters: { name: string; extensions: string[] }[];
}

/** The native dialog a validated request asks for (`~` in the start path expanded). */
export function dialogOptions(request: PickPathRequestParsed, home: string): DialogOptions {
  const extensions = request.extensions?.map((e) => e.replace(/^\./, '')) ?? [];
  const filters =
    request.mode === 'open-folder' || extensions.length === 0
      ? []
      : [
          { name: extensions.map((e) => `.${e}`).join(', '), extensions },
          { name: 'All files', extensions: ['*'] },
        ];
  const defaultPath = request.defaultPath?.trim() ? expandHome(request.defaultPath.trim(), home) : undefined;
  return {
    kind: request.mode === 'save-file' ? 'save' : 'open',
    title: request.title ?? (request.mode === 'open-folder' ? 'Choose a folder' : 'Choose a file'),
    ...(defaultPath ? { defaultPath } : {}),
    properties:
      request.mode === 'open-folder'
        ? ['openDirectory', 'createDirectory']
        : request.mode === 'open-file'
          ? ['openFile']
          : ['createDirectory', 'showOverwriteConfirmation'],
    filters,
  };
}

type PickPathRequestParsed = z.output<typeof pickPathRequestSchema>;

/** What a native dialog does, injected (Electron's `dialog` in main.ts, a fake in tests). */
export type ShowDialog = (options: DialogOptions) => Promise<{ canceled: boolean; path?: string | undefined }>;

/**
 * The pick-path IPC: only from our page, input validated (the renderer is not trusted), then the
 * native dialog. Resolves to the chosen path, or undefined (cancelled, or a refused request).
 */
export async function handlePickPath(
  senderUrl: string | undefined,
  rendererUrl: string,
  raw: unknown,
  home: string,
  show: ShowDialog,
): Promise<string | undefined> {
  if (!isTrustedSender(senderUrl, rendererUrl)) return undefined;
  const parsed = pickPathRequestSchema.safeParse(raw);
  if (!parsed.success) return undefined;
  const answer = await show(dialogOptions(parsed.data, home));
  return answer.canceled || !answer.path ? undefined : answer.path;
}

/** "Show in folder": only from our page, only an absolute path (after `~`) that exists. */
export function showInFolderTarget(
  senderUrl: string | undefined,
  rendererUrl: string,
  raw: unknown,
  home: string,
): string | undefined {
  if (!isTrustedSender(senderUrl, rendererUrl)) return undefined;
  const parsed = showInFolderRequestSchema.safeParse(raw);
  if (!parsed.success) return undefined;
  const target = expandHome(parsed.data.trim(), home);
  return path.isAbsolute(target) && existsSync(target) ? target : undefined;
}
