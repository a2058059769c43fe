/**
 * The web host: the built renderer and the contract over HTTP on 127.0.0.1 only, for headless lab
 * machines and browser tests. Commands: `POST /api/command/<name>` with a JSON body, answered by a
 * JSON `Result`. Events: `GET /api/events` (Server-Sent Events). Downloads of run and export
 * files: `GET /api/download?path=` (web/download.ts). Every request needs the per-launch
 * token (query `?token=`, header, or the cookie set when the page was opened with the token) and a
 * loopback Host header.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CONTENT_SECURITY_POLICY } from '../../shared/csp.js';
import { FreezeLabError } from '../../shared/result.js';
import type { Service } from '../service/service.js';
import { isAllowedOrigin, isLoopbackHost, newToken, presentedToken, TOKEN_COOKIE } from './auth.js';
import { DOWNLOAD_PATH, serveDownload } from './download.js';
import { serveStatic } from './static.js';

export interface WebHostOptions {
  readonly service: Service;
  /** 0 picks a free port. */
  readonly port: number;
  /** Folder of the built renderer (index.html and assets). */
  readonly staticDir: string;
  /** Fixed token for tests; a random one otherwise. */
  readonly token?: string;
  /**
   * When `port` is taken, listen on a free one instead (the host's `fallbackFrom` says which was
   * taken). For `npm start` and a default port: a second launch should open, not fail.
   */
  readonly fallbackToFreePort?: boolean;
}

export interface WebHost {
  readonly url: string;
  readonly port: number;
  readonly token: string;
  /** The port that was asked for and taken, when the host fell back to a free one. */
  readonly fallbackFrom?: number;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1 << 20;
const LISTEN_ADDRESS = '127.0.0.1';

export async function startWebHost(options: WebHostOptions): Promise<WebHost> {
  const token = options.token ?? newToken();
  const sseClients = new Set<ServerResponse>();
  let port = options.port;

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      console.error('web host: request failed', error);
      if (!res.headersSent) sendJson(res, 500, { ok: false, error: { code: 'internal', message: String(error) } });
      else res.end();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cache-Control', 'no-store');
    if (!isLoopbackHost(req.headers.host, port)) {
      return sendText(res, 403, 'Forbidden: this server answers only to 127.0.0.1 / localhost.');
    }
    if (!isAllowedOrigin(req.headers.origin, port)) {
      return sendText(res, 403, 'Forbidden: cross-origin request.');
    }
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
    const presented = presentedToken(req, url, token);
    if (!presented) {
      return sendText(res, 401, 'Unauthorized: open the URL that `freezelab serve` printed (it carries the token).');
    }
    if (presented === 'query') {
      // The page's own later requests (scripts, API) carry the token as a same-site cookie.
      res.setHeader('Set-Cookie', `${TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`);
    }

    if (url.pathname.startsWith('/api/command/')) {
      if (req.method !== 'POST') return sendText(res, 405, 'Use POST for commands.');
      if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) {
        return sendText(res, 415, 'Commands take a JSON body (Content-Type: application/json).');
      }
      let name: string;
      try {
        name = decodeURIComponent(url.pathname.slice('/api/command/'.length));
      } catch {
        // A malformed % escape is the caller's mistake, not a FreezeLab fault.
        return sendText(res, 400, 'The command name in the path has a malformed % escape.');
      }
      const body = await readBody(req);
      if (body === undefined) return sendText(res, 413, 'Request body too large.');
      let input: unknown;
      try {
        input = body.length === 0 ? {} : JSON.parse(body);
      } catch {
        return sendJson(res, 400, {
          ok: false,
          error: { code: 'invalid-input', message: 'The request body is not valid JSON.' },
        });
      }
      return sendJson(res, 200, await options.service.dispatch(name, input));
    }
    if (url.pathname === '/api/events') return openEventStream(req, res);
    if (url.pathname === DOWNLOAD_PATH) {
      return serveDownload(options.service.context.paths, url, req, res, (status, text) => sendText(res, status, text));
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendText(res, 405, 'Method not allowed.');
    res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    return serveStatic(options.staticDir, url.pathname, req, res);
  }

  function openEventStream(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', Connection: 'keep-alive' });
    res.write(': connected\n\n');
    sseClients.add(res);
    const unsubscribe = options.service.events.subscribe((message) => {
      res.write(`data: ${JSON.stringify(message)}\n\n`);
    });
    req.on('close', () => {
      unsubscribe();
      sseClients.delete(res);
    });
  }

  const listen = (wanted: number) =>
    new Promise<void>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) => reject(error);
      server.once('error', onError);
      server.listen(wanted, LISTEN_ADDRESS, () => {
        server.off('error', onError);
        resolve();
      });
    });
  let fallbackFrom: number | undefined;
  try {
    await listen(options.port);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' && options.fallbackToFreePort && options.port !== 0) {
      fallbackFrom = options.port;
      await listen(0);
    } else if (code === 'EADDRINUSE' || code === 'EACCES') {
      // A user's choice of port, not a bug: one line, no stack trace.
      throw new FreezeLabError(
        'conflict',
        `Port ${options.port} on ${LISTEN_ADDRESS} is ${code === 'EACCES' ? 'not allowed for this user' : 'in use'}.`,
        'Pass --port with another number, or --port 0 for any free port.',
      );
    } else throw error;
  }
  port = (server.address() as AddressInfo).port;

  return {
    url: `http://${LISTEN_ADDRESS}:${port}/?token=${token}`,
    port,
    token,
    ...(fallbackFrom !== undefined ? { fallbackFrom } : {}),
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of sseClients) client.end();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        resolve(undefined);
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' });
  res.end(text);
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(`${text}\n`);
}
