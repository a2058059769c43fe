import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAllowedOrigin, isLoopbackHost } from '../../../src/main/web/auth.js';
import { startWebHost, type WebHost } from '../../../src/main/web/server.js';
import { request } from '../../helpers/http.js';
import { tempDir, testService } from '../../helpers/service.js';

describe('loopback checks', () => {
  it('accepts only loopback names on our port', () => {
    expect(isLoopbackHost('127.0.0.1:5199', 5199)).toBe(true);
    expect(isLoopbackHost('localhost:5199', 5199)).toBe(true);
    expect(isLoopbackHost('[::1]:5199', 5199)).toBe(true);
    expect(isLoopbackHost('127.0.0.1:5200', 5199)).toBe(false);
    expect(isLoopbackHost('evil.example:5199', 5199)).toBe(false);
    expect(isLoopbackHost('127.0.0.1.evil.example:5199', 5199)).toBe(false);
    expect(isLoopbackHost('192.168.1.10:5199', 5199)).toBe(false);
    expect(isLoopbackHost(undefined, 5199)).toBe(false);
  });
  it('accepts no Origin or our own, refuses others', () => {
    expect(isAllowedOrigin(undefined, 80)).toBe(true);
    expect(isAllowedOrigin('http://127.0.0.1:80', 80)).toBe(true);
    expect(isAllowedOrigin('http://evil.example', 80)).toBe(false);
    expect(isAllowedOrigin('null', 80)).toBe(false);
  });
});

describe('web host', () => {
  const service = testService('web');
  let host: WebHost;
  const staticDir = tempDir('freezelab-static-');
  const token = 'test-token-0123456789';

  beforeAll(async () => {
    writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>FreezeLab</title>');
    mkdirSync(path.join(staticDir, 'assets'));
    writeFileSync(path.join(staticDir, 'assets', 'app.js'), 'console.log(1)');
    writeFileSync(path.join(staticDir, '..', 'secret.txt'), 'secret');
    host = await startWebHost({ service, port: 0, staticDir, token });
  });
  afterAll(() => host.close());

  it('prints a 127.0.0.1 URL carrying the token', () => {
    expect(host.url).toBe(`http://127.0.0.1:${host.port}/?token=${token}`);
  });

  it('serves the app with the token, sets the cookie and the CSP', async () => {
    const res = await request(host.port, `/?token=${token}`);
    expect(res.status).toBe(200);
    expect(res.body).toContain('<title>FreezeLab</title>');
    expect(res.headers['set-cookie']?.[0]).toMatch(/^freezelab_token=test-token-0123456789; HttpOnly; SameSite=Strict/);
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
  });

  it('refuses the same path without the token, or with a wrong one', async () => {
    expect((await request(host.port, '/')).status).toBe(401);
    expect((await request(host.port, '/?token=wrong')).status).toBe(401);
    expect((await request(host.port, '/assets/app.js')).status).toBe(401);
  });

  it('accepts the cookie and the header in place of the query token', async () => {
    const byCookie = await request(host.port, '/assets/app.js', { headers: { Cookie: `freezelab_token=${token}` } });
    expect(byCookie.status).toBe(200);
    expect(byCookie.headers['content-type']).toContain('text/javascript');
    const byHeader = await request(host.port, '/assets/app.js', { headers: { 'X-FreezeLab-Token': token } });
    expect(byHeader.status).toBe(200);
  });

  it('refuses a Host header that is not loopback, even with the token (DNS rebinding)', async () => {
    const res = await request(host.port, `/?token=${token}`, { headers: { Host: `evil.example:${host.port}` } });
    expect(res.status).toBe(403);
  });

  it('refuses cross-origin commands', async () => {
    const res = await request(host.port, '/api/command/app.info', {
      method: 'POST',
      headers: { 'X-FreezeLab-Token': token, Origin: 'http://evil.example', 'Content-Type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(403);
  });

  it('answers commands as Result JSON, validating input', async () => {
    const headers = { 'X-FreezeLab-Token': token, 'Content-Type': 'application/json' };
    const good = await request(host.port, '/api/command/app.info', { method: 'POST', headers, body: '{}' });
    expect(JSON.parse(good.body)).toMatchObject({ ok: true, value: { host: 'web' } });
    const bad = await request(host.port, '/api/command/app.info', { method: 'POST', headers, body: '{"x":1}' });
    expect(JSON.parse(bad.body)).toMatchObject({ ok: false, error: { code: 'invalid-input' } });
    const notJson = await request(host.port, '/api/command/app.info', { method: 'POST', headers, body: '{' });
    expect(notJson.status).toBe(400);
    const plain = await request(host.port, '/api/command/app.info', {
      method: 'POST',
      headers: { 'X-FreezeLab-Token': token, 'Content-Type': 'text/plain' },
      body: '{}',
    });
    expect(plain.status).toBe(415);
    const get = await request(host.port, '/api/command/app.info', { headers });
    expect(get.status).toBe(405);
    // A malformed % escape is the caller's mistake: a 400 that says so, not an internal error.
    const escape = await request(host.port, '/api/command/app.%E0%A4%A', { method: 'POST', headers, body: '{}' });
    expect(escape.status).toBe(400);
    expect(escape.body).toMatch(/malformed % escape/);
  });

  it('never serves files outside the renderer folder', async () => {
    const headers = { 'X-FreezeLab-Token': token };
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/../../secret.txt']) {
      const res = await request(host.port, p, { headers });
      expect(res.status, p).toBe(404);
      expect(res.body).not.toContain('secret');
    }
  });

  it('streams service events to subscribers', async () => {
    const received = new Promise<string>((resolve, reject) => {
      void import('node:http').then(({ default: http }) => {
        const req = http.get({ host: '127.0.0.1', port: host.port, path: `/api/events?token=${token}` }, (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => {
            text += chunk.toString();
            if (text.includes('hello from the test')) {
              resolve(text);
              req.destroy();
            }
          });
        });
        req.on('error', reject);
      });
    });
    // Emit until the stream has subscribed (subscription happens when the request arrives).
    const timer = setInterval(
      () => service.events.emit('app.notice', { level: 'info', message: 'hello from the test' }),
      20,
    );
    const text = await received.finally(() => clearInterval(timer));
    expect(text).toContain('"event":"app.notice"');
  });
});
