/** `GET /api/download?path=<folder>&zip=1`: a folder of runs/, exports/ or detect/ as a zip made on the fly, confined and bounded. */
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/main/engine/tf/backend.js';
import { resolveDataPaths } from '../../../src/main/paths.js';
import { createService } from '../../../src/main/service/service.js';
import { serveDownload, type ZipLimits } from '../../../src/main/web/download.js';
import { startWebHost, type WebHost } from '../../../src/main/web/server.js';
import { requestBytes } from '../../helpers/http.js';
import { tempDir } from '../../helpers/service.js';

describe('folder downloads as zip', () => {
  const home = tempDir('freezelab-home-');
  const dataDir = tempDir('freezelab-data-');
  const outside = tempDir('freezelab-outside-');
  const paths = { ...resolveDataPaths({ dataDir }, {}), homeDir: home };
  const service = createService({ host: 'web', runJobs: false, paths, loadBackend: () => initBackend() });
  const token = 'test-token-zip';
  let host: WebHost;
  let limited: http.Server;
  let limitedPort = 0;
  let limits: ZipLimits = { maxBytes: 1e9, maxFiles: 1e6 };
  const exp = path.join(dataDir, 'detect', 'exp2');
  const files = new Map<string, Buffer>();

  beforeAll(async () => {
    // A pre-label output: labels, an annotated "image" larger than a stream chunk, a sub-folder.
    mkdirSync(path.join(exp, 'labels', 'sub'), { recursive: true });
    for (let i = 0; i < 40; i++)
      files.set(`labels/img_${String(i).padStart(3, '0')}.txt`, Buffer.from(`0 0.5 0.5 0.${(i % 9) + 1} 0.2\n`));
    files.set('labels/sub/deep é.txt', Buffer.from('1 0.1 0.2 0.3 0.4 0.91\n'));
    files.set('labels/empty.txt', Buffer.alloc(0));
    const jpg = Buffer.alloc(200_000);
    for (let i = 0; i < jpg.length; i++) jpg[i] = (i * 7919) % 251;
    files.set('bus.jpg', jpg);
    for (const [name, bytes] of files) writeFileSync(path.join(exp, name), bytes);
    writeFileSync(path.join(outside, 'secret.txt'), 'not yours');
    symlinkSync(path.join(outside, 'secret.txt'), path.join(exp, 'labels', 'link-out.txt'));
    symlinkSync(outside, path.join(exp, 'outside-dir'));
    writeFileSync(path.join(home, 'notes.txt'), 'home');
    host = await startWebHost({ service, port: 0, staticDir: tempDir(), token });
    limited = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const reply = (status: number, text: string) => {
        res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end(text);
      };
      void serveDownload(paths, url, req, res, reply, limits);
    });
    await new Promise<void>((resolve) => limited.listen(0, '127.0.0.1', resolve));
    limitedPort = (limited.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => limited?.close(resolve));
    await host?.close();
    await service.close();
  });

  const url = (p: string, zip = true) =>
    `/api/download?path=${encodeURIComponent(p)}${zip ? '&zip=1' : ''}&token=${token}`;

  it('zips a detect/ folder: every file, same bytes, same relative names; links out are left out', async () => {
    const res = await requestBytes(host.port, url(exp));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/zip');
    expect(res.headers['content-disposition']).toBe('attachment; filename="exp2.zip"; filename*=UTF-8\'\'exp2.zip');
    const unzipped = unzipSync(new Uint8Array(res.body));
    expect(Object.keys(unzipped).sort()).toEqual([...files.keys()].sort());
    for (const [name, bytes] of files) expect(Buffer.from(unzipped[name]!).equals(bytes), name).toBe(true);
    expect(res.body.includes(Buffer.from('not yours'))).toBe(false);
    expect(res.headers['x-zip-files']).toBe(String(files.size));
  });

  it('zips only the labels folder when asked for it', async () => {
    const res = await requestBytes(host.port, url(path.join(exp, 'labels')));
    expect(res.status).toBe(200);
    const names = Object.keys(unzipSync(new Uint8Array(res.body))).sort();
    expect(names).toEqual(
      [...files.keys()]
        .filter((n) => n.startsWith('labels/'))
        .map((n) => n.slice(7))
        .sort(),
    );
  });

  it('needs the token, and refuses (403) folders outside runs/, exports/ and detect/', async () => {
    expect((await requestBytes(host.port, url(exp).replace(`&token=${token}`, ''))).status).toBe(401);
    for (const dir of [
      home,
      outside,
      dataDir,
      '/etc',
      path.join(exp, 'outside-dir'),
      `${exp}/../../../${path.basename(outside)}`,
    ]) {
      const res = await requestBytes(host.port, url(dir));
      expect(res.status, dir).toBe(403);
      expect(res.body.includes(Buffer.from('not yours'))).toBe(false);
    }
  });

  it('a folder without zip=1 is a 404 saying how; zip=1 on a file is a 400; files of detect/ download as before', async () => {
    const folder = await requestBytes(host.port, url(exp, false));
    expect(folder.status).toBe(404);
    expect(folder.body.toString()).toContain('zip=1');
    expect((await requestBytes(host.port, url(path.join(exp, 'bus.jpg')))).status).toBe(400);
    const one = await requestBytes(host.port, url(path.join(exp, 'labels', 'sub', 'deep é.txt'), false));
    expect(one.status).toBe(200);
    expect(one.body.toString()).toBe('1 0.1 0.2 0.3 0.4 0.91\n');
  });

  it('refuses (413) a folder over the file-count or size limit, saying which and what to do', async () => {
    limits = { maxBytes: 1e9, maxFiles: 10 };
    let res = await requestBytes(limitedPort, url(exp));
    expect(res.status).toBe(413);
    expect(res.body.toString()).toContain('more than 10 files');
    expect(res.body.toString()).toContain('one by one');
    limits = { maxBytes: 100_000, maxFiles: 1e6 };
    res = await requestBytes(limitedPort, url(exp));
    expect(res.status).toBe(413);
    expect(res.body.toString()).toMatch(/more than 0 MB/);
    // Within both limits: the same zip as the web host's.
    limits = { maxBytes: 300_000, maxFiles: files.size };
    res = await requestBytes(limitedPort, url(exp));
    expect(res.status).toBe(200);
    expect(Object.keys(unzipSync(new Uint8Array(res.body))).length).toBe(files.size);
  });

  it('a client that goes away half-way gets part of the zip; the server goes on answering', async () => {
    // Larger than the socket buffers, so the server is still writing when the client leaves.
    const bigDir = path.join(dataDir, 'detect', 'big');
    mkdirSync(bigDir, { recursive: true });
    const chunk = Buffer.alloc(4 * 1024 * 1024);
    for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 2654435761) >>> 24;
    for (let i = 0; i < 6; i++) writeFileSync(path.join(bigDir, `part${i}.bin`), chunk);
    const received = await new Promise<number>((resolve, reject) => {
      const req = http.get(
        { host: '127.0.0.1', port: host.port, path: url(bigDir), headers: { Host: `127.0.0.1:${host.port}` } },
        (res) => {
          let bytes = 0;
          res.on('data', (c: Buffer) => {
            bytes += c.length;
            if (bytes > 1024 * 1024) req.destroy();
          });
          res.on('close', () => resolve(bytes));
        },
      );
      req.on('error', (e) => (String(e).includes('socket hang up') ? undefined : reject(e)));
    });
    expect(received).toBeGreaterThan(1024 * 1024);
    expect(received).toBeLessThan(6 * chunk.length);
    const after = await requestBytes(host.port, url(path.join(exp, 'labels')));
    expect(after.status).toBe(200);
  });

  it('reads each file as it zips (a file changed on disk is what is sent)', async () => {
    const name = 'labels/img_000.txt';
    writeFileSync(path.join(exp, name), '2 0.5 0.5 0.5 0.5\n');
    const res = await requestBytes(host.port, url(exp));
    expect(Buffer.from(unzipSync(new Uint8Array(res.body))[name]!).toString()).toBe('2 0.5 0.5 0.5 0.5\n');
    writeFileSync(path.join(exp, name), files.get(name)!);
    expect(readFileSync(path.join(exp, name)).equals(files.get(name)!)).toBe(true);
  });
});
