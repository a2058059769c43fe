/**
 * Who may talk to the web host: only pages and tools on this machine that were given the
 * per-launch token. The Host check defeats DNS rebinding (a remote page resolving its own name to
 * 127.0.0.1); the token defeats other local users' and sites' guesses.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const TOKEN_COOKIE = 'freezelab_token';
export const TOKEN_HEADER = 'x-freezelab-token';

export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** True when the Host header names a loopback address on our port. */
export function isLoopbackHost(hostHeader: string | undefined, port: number): boolean {
  if (!hostHeader) return false;
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hostHeader.trim().toLowerCase());
  if (!match) return false;
  const [, host, portText] = match;
  if (!host || !LOOPBACK_HOSTS.has(host)) return false;
  return portText === undefined ? port === 80 : Number(portText) === port;
}

/** An Origin, when a browser sends one, must be our own loopback origin. */
export function isAllowedOrigin(origin: string | undefined, port: number): boolean {
  if (origin === undefined) return true; // same-origin GETs and non-browser clients send none
  try {
    const url = new URL(origin);
    return url.protocol === 'http:' && isLoopbackHost(url.host, port);
  } catch {
    return false;
  }
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Where the request carried the token, or undefined when it did not carry the right one. */
export function presentedToken(
  req: IncomingMessage,
  url: URL,
  token: string,
): 'query' | 'header' | 'cookie' | undefined {
  const fromQuery = url.searchParams.get('token');
  if (fromQuery !== null && safeEqual(fromQuery, token)) return 'query';
  const fromHeader = req.headers[TOKEN_HEADER];
  if (typeof fromHeader === 'string' && safeEqual(fromHeader, token)) return 'header';
  const fromCookie = readCookie(req.headers.cookie, TOKEN_COOKIE);
  if (fromCookie !== undefined && safeEqual(fromCookie, token)) return 'cookie';
  return undefined;
}
