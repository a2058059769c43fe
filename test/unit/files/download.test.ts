/** `GET /api/download` of the web host: token required, confined to runs/ and exports/ by real path, streamed as an attachment. */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/main/engine/tf/backend.js';
import { resolveDataPaths } from '../../../src/main/paths.js';
import { createService } from '../../../src/main/service/service.js';
import { contentDisposition } from '../../../src/main/web/download.js';
import { startWebHost, type WebHost } from '../../../src/main/web/server.js';
import { request, requestBytes } from '../../helpers/http.js';
import { tempDir } from '../../helpers/service.js';

describe('web host downloads', () => {
  const home = tempDir('freezelab-home-');
  const dataDir = tempDir('freezelab-data-');
  const outside = tempDir('freezelab-outside-');
  const paths = { ...resolveDataPaths({ dataDir }, {}), homeDir: home };
  const service = createService({ host: 'web', runJobs: false, paths, loadBackend: () => initBackend() });
  const token = 'test-token-downloads';
  let host: WebHost;
  // A binary checkpoint-like file larger than one stream chunk, a CSV with a non-ASCII name.
  const big = Buffer.alloc(300_000);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7919) % 251;
  const runFile = path.join(paths.runsDir, '3', 'best.pt');
  const exportFile = path.join(dataDir, 'exports', 'run-3', 'métriques.csv');

  beforeAll(async () => {
    mkdirSync(path.dirname(runFile), { recursive: true });
    writeFileSync(runFile, big);
    mkdirSync(path.dirname(exportFile), { recursive: true });
    writeFileSync(exportFile, 'epoch,map\n1,0.5\n');
    writeFileSync(path.join(outside, 'secret.txt'), 'not yours');
    writeFileSync(path.join(home, 'notes.txt'), 'home, not downloadable');
    writeFileSync(paths.databasePath, 'SQLite format 3');
    symlinkSync(path.join(outside, 'secret.txt'), path.join(paths.runsDir, '3', 'link.txt'));
    symlinkSync(outside, path.join(dataDir, 'exports', 'escape'));
    host = await startWebHost({ service, port: 0, staticDir: tempDir(), token });
  });
  afterAll(async () => {
    await host?.close();
    await service.close();
  });

  const url = (file: string, withToken = true) =>
    `/api/download?path=${encodeURIComponent(file)}${withToken ? `&token=${token}` : ''}`;

  it('needs the token', async () => {
    expect((await request(host.port, url(runFile, false))).status).toBe(401);
    expect((await request(host.port, `${url(runFile, false)}&token=wrong`)).status).toBe(401);
  });

  it('streams a run file as an attachment, bytes intact', async () => {
    const res = await requestBytes(host.port, url(runFile));
    expect(res.status).toBe(200);
    expect(res.headers['content-disposition']).toBe('attachment; filename="best.pt"; filename*=UTF-8\'\'best.pt');
    expect(res.headers['content-type']).toBe('application/octet-stream');
    expect(res.headers['content-length']).toBe(String(big.length));
    expect(res.body.equals(big)).toBe(true);
  });

  it('serves exports, with the exact UTF-8 file name', async () => {
    const res = await requestBytes(host.port, url(exportFile));
    expect(res.status).toBe(200);
    expect(res.body.toString('utf8')).toBe('epoch,map\n1,0.5\n');
    expect(res.headers['content-disposition']).toBe(contentDisposition('métriques.csv'));
    expect(contentDisposition('métriques.csv')).toBe(
      'attachment; filename="m_triques.csv"; filename*=UTF-8\'\'m%C3%A9triques.csv',
    );
  });

  it('refuses (403) anything outside runs/ and exports/: the database, home, /etc, .. and symlinks out', async () => {
    for (const file of [
      paths.databasePath,
      path.join(home, 'notes.txt'),
      '/etc/passwd',
      path.join(outside, 'secret.txt'),
      `${paths.runsDir}/../../${path.basename(outside)}/secret.txt`,
      path.join(paths.runsDir, '3', 'link.txt'),
      path.join(dataDir, 'exports', 'escape', 'secret.txt'),
      path.join(outside, 'missing.txt'), // outside and missing: still 403, nothing learnt
    ]) {
      const res = await request(host.port, url(file));
      expect(res.status, file).toBe(403);
      expect(res.body).not.toContain('not yours');
    }
  });

  it('404 for a missing file or a folder, 400 without a path, 405 for other methods', async () => {
    expect((await request(host.port, url(path.join(paths.runsDir, '3', 'nope.pt')))).status).toBe(404);
    expect((await request(host.port, url(path.join(paths.runsDir, '3')))).status).toBe(404);
    expect((await request(host.port, `/api/download?token=${token}`)).status).toBe(400);
    expect((await request(host.port, url(runFile), { method: 'POST' })).status).toBe(405);
  });
});
