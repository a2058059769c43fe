/**
 * How the renderer reaches the service: through the Electron preload when it exists, otherwise
 * over HTTP + Server-Sent Events from the web host. Both speak the same contract.
 */
import { PRELOAD_GLOBAL } from '../../shared/ipc.js';
import { isEventMessage, type CommandName, type EventMessage, type Transport } from '../../shared/contract.js';
import type { Result } from '../../shared/result.js';

type PreloadApi = Transport;

function preloadApi(): PreloadApi | undefined {
  return (window as unknown as Record<string, PreloadApi | undefined>)[PRELOAD_GLOBAL];
}

function webTransport(): Transport {
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

export function createTransport(): Transport {
  return preloadApi() ?? webTransport();
}
