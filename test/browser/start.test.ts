import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { request } from '../helpers/http.js';
import { tempDir } from '../helpers/service.js';

const root = path.resolve(new URL('../..', import.meta.url).pathname);
const built = existsSync(path.join(root, 'dist', 'main', 'cli', 'main.js'));
const DEFAULT_PORT = 5199;

/** Holds the default port for the test; when someone else holds it already, that serves as well. */
function holdDefaultPort(): Promise<Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) =>
      error.code === 'EADDRINUSE' ? resolve(undefined) : reject(error),
    );
    server.listen(DEFAULT_PORT, '127.0.0.1', () => resolve(server));
  });
}

/** Resolves with stdout once it holds `pattern`, or rejects with everything printed when the process ends. */
function waitForOutput(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (pattern.test(out)) resolve(out);
    });
    child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`exited ${code} before printing the URL:\n${out}\n${err}`)));
  });
}

// `npm start` is `node scripts/start.js` (it builds what is missing or stale): this runs the second half on the build.
describe.skipIf(!built)('npm start without Electron', () => {
  const home = tempDir('freezelab-start-');
  let child: ChildProcess | undefined;
  let held: Server | undefined;
  afterAll(() => {
    child?.kill('SIGTERM');
    held?.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('takes a free port when 5199 is taken, and prints it', async () => {
    held = await holdDefaultPort();
    const { FREEZELAB_DB: _db, ...env } = process.env; // the database must be the one in `home`
    child = spawn(process.execPath, ['scripts/start.js'], {
      cwd: root,
      env: { ...env, FREEZELAB_NO_ELECTRON: '1', FREEZELAB_HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = await waitForOutput(child, /serving on (http:\/\/\S+)/);
    expect(out).toContain('not opening a window because FREEZELAB_NO_ELECTRON is set');
    const url = new URL(/serving on (http:\/\/\S+)/.exec(out)![1]!);
    const port = Number(url.port);
    expect(port).not.toBe(DEFAULT_PORT);
    expect(out).toContain(`Port ${DEFAULT_PORT} is in use, so FreezeLab took the free port ${port}.`);
    const page = await request(port, `/${url.search}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('FreezeLab');
  });

  it('refuses a port the user chose that is taken in one line, without a stack trace', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as { port: number }).port;
    const serve = spawn(process.execPath, ['bin/freezelab.js', 'serve', '--port', String(port), '--home', home], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    serve.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => serve.once('exit', resolve));
    busy.close();
    expect(code).toBe(1);
    expect(err).toBe(
      `freezelab serve: Port ${port} on 127.0.0.1 is in use. Pass --port with another number, or --port 0 for any free port.\n`,
    );
  });
});
