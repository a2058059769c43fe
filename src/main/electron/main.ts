/**
 * The Electron shell: one window over the shared service. Security: context isolation, sandbox,
 * no Node in the renderer, a CSP, no navigation or new windows, every command validated by the
 * service.
 */
import { app, BrowserWindow, ipcMain, session, shell } from 'electron';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CONTENT_SECURITY_POLICY } from '../../shared/csp.js';
import { IPC_EVENT, IPC_INVOKE } from '../../shared/ipc.js';
import { initBackend } from '../engine/tf/backend.js';
import { resolveDataPaths } from '../paths.js';
import { createService } from '../service/service.js';
import { packageRoot } from '../version.js';
import { handleInvoke } from './ipc.js';
import { utilityWorker } from './utility-worker.js';

const rendererIndex = path.join(packageRoot, 'dist', 'renderer', 'index.html');
const rendererUrl = pathToFileURL(rendererIndex).href;
const preloadPath = path.join(packageRoot, 'dist', 'main', 'electron', 'preload.cjs');

const service = createService({
  host: 'electron',
  paths: resolveDataPaths({ dataDir: process.env.FREEZELAB_HOME ? undefined : app.getPath('userData') }),
  // initBackend finds the WASM binaries in app.asar.unpacked when packaged.
  loadBackend: () => initBackend(),
  spawnWorker: utilityWorker,
});

function createWindow(): BrowserWindow {
  const window = new BrowserWindow({
    width: 1400,
    height: 900,
    minWidth: 960,
    minHeight: 640,
    title: 'FreezeLab',
    icon: path.join(packageRoot, 'assets', 'icon.png'),
    show: false,
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: false,
    },
  });
  window.once('ready-to-show', () => window.show());
  window.webContents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https://')) void shell.openExternal(url);
    return { action: 'deny' };
  });
  window.webContents.on('will-navigate', (event, url) => {
    if (url !== rendererUrl) event.preventDefault();
  });
  const unsubscribe = service.events.subscribe((message) => {
    if (!window.isDestroyed()) window.webContents.send(IPC_EVENT, message);
  });
  window.on('closed', unsubscribe);
  void window.loadFile(rendererIndex);
  return window;
}

app.enableSandbox();
void app.whenReady().then(() => {
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });
  });
  ipcMain.handle(IPC_INVOKE, (event, name: unknown, input: unknown) =>
    handleInvoke(service, event.senderFrame?.url, rendererUrl, name, input),
  );
  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});

// Running trainings stop at a batch boundary and stay resumable.
let closing = false;
app.on('before-quit', (event) => {
  if (closing) return;
  closing = true;
  event.preventDefault();
  void service.close().finally(() => app.quit());
});
