/**
 * How the renderer reaches the service: through the Electron preload when it exists, otherwise
 * over HTTP + Server-Sent Events from the web host. Both speak the same contract.
 */
import { PRELOAD_GLOBAL, type PickPathRequest } from '../../shared/ipc.js';
import { isEventMessage, type CommandName, type EventMessage, type Transport } from '../../shared/contract.js';
import type { Result } from '../../shared/result.js';

/**
 * The transport plus what only one kind of host can do. In Electron: native open/save dialogs and
 * "Show in folder"; in served mode: download links (the page then opens the server-side file
 * browser to pick paths). Exactly one of `pickPath` / `downloadUrl` is present.
 */
export interface HostTransport extends Transport {
  readonly kind: 'electron' | 'web';
  /** Native dialog; resolves to the chosen path, or undefined when cancelled. */
  pickPath?(request: PickPathRequest): Promise<string | undefined>;
  showInFolder?(path: string): Promise<void>;
  /** A URL that downloads a file of the data folder's runs or exports (served mode). */
  downloadUrl?(path: string): string;
}

type PreloadApi = Transport & {
  pickPath?(request: PickPathRequest): Promise<string | undefined>;
  showInFolder?(path: string): Promise<void>;
};

function preloadApi(): PreloadApi | undefined {
  return (window as unknown as Record<string, PreloadApi | undefined>)[PRELOAD_GLOBAL];
}

function webTransport(): HostTransport {
  // The page was opened with ?token=…; the server also set it as a cookie, but sending it
  // explicitly keeps the client working when cookies are blocked.
  const token = new URLSearchParams(window.location.search).get('token') ?? '';
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (token) headers['X-FreezeLab-Token'] = token;
  const listeners = new Set<(message: EventMessage) => void>();
  let source: EventSource | undefined;

  function ensureStream(): void {
    if (source) return;
    const query = token ? `?token=${encodeURIComponent(token)}` : '';
    source = new EventSource(`./api/events${query}`);
    source.onmessage = (event: MessageEvent<string>) => {
      // Forwarded as the bus emitted it; anything else on the stream is not an event of ours.
      const message: unknown = JSON.parse(event.data);
      if (!isEventMessage(message)) return;
      for (const listener of listeners) listener(message);
    };
  }

  return {
    kind: 'web',
    downloadUrl(path: string): string {
      const query = new URLSearchParams({ path });
      if (token) query.set('token', token);
      return `./api/download?${query.toString()}`;
    },
    async invoke(name: CommandName, input: unknown): Promise<Result<unknown>> {
      let response: Response;
      try {
        response = await fetch(`./api/command/${encodeURIComponent(name)}`, {
          method: 'POST',
          headers,
          body: JSON.stringify(input ?? {}),
        });
      } catch (error) {
        return {
          ok: false,
          error: {
            code: 'internal',
            message: `The FreezeLab service is not reachable (${String(error)}).`,
            hint: 'Is `freezelab serve` still running? Restart it and open the new URL.',
          },
        };
      }
      if (response.headers.get('content-type')?.startsWith('application/json')) {
        return (await response.json()) as Result<unknown>;
      }
      const text = (await response.text()).trim();
      return {
        ok: false,
        error: {
          code: 'internal',
          message: `The service answered ${response.status}: ${text}`,
          ...(response.status === 401 ? { hint: 'Open the URL that `freezelab serve` printed.' } : {}),
        },
      };
    },
    onEvent(listener) {
      listeners.add(listener);
      ensureStream();
      return () => listeners.delete(listener);
    },
  };
}

function electronTransport(api: PreloadApi): HostTransport {
  return {
    kind: 'electron',
    invoke: (name, input) => api.invoke(name, input),
    onEvent: (listener) => api.onEvent(listener),
    ...(api.pickPath ? { pickPath: (request: PickPathRequest) => api.pickPath!(request) } : {}),
    ...(api.showInFolder ? { showInFolder: (path: string) => api.showInFolder!(path) } : {}),
  };
}

export function createTransport(): HostTransport {
  const api = preloadApi();
  return api ? electronTransport(api) : webTransport();
}
