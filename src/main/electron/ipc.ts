/**
 * The Electron host's command handling, without importing `electron`, so that tests drive it
 * through the same service the web host uses. `main.ts` only wires these to ipcMain.
 */
import type { Result } from '../../shared/result.js';
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
