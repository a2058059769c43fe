/**
 * The Electron shell: one window over the shared service. Security: context isolation, sandbox,
 * no Node in the renderer, a CSP, no navigation or new windows, every command validated by the
 * service.
 */
import { app, BrowserWindow, dialog, ipcMain, session, shell } from 'electron';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CONTENT_SECURITY_POLICY } from '../../shared/csp.js';
import { IPC_EVENT, IPC_INVOKE, IPC_PICK_PATH, IPC_SHOW_IN_FOLDER } from '../../shared/ipc.js';
import { initBackend } from '../engine/tf/backend.js';
import { homeDirOf, resolveDataPaths } from '../paths.js';
import { createService } from '../service/service.js';
import { packageRoot } from '../version.js';
import { handleInvoke, handlePickPath, showInFolderTarget, type DialogOptions } from './ipc.js';
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

/** A native open or save dialog, modal to the window that asked. */
async function showDialog(
  window: BrowserWindow | null,
  options: DialogOptions,
): Promise<{ canceled: boolean; path?: string | undefined }> {
  const { kind, ...rest } = options;
  if (kind === 'save') {
    const properties = rest.properties.filter((p) => p === 'createDirectory' || p === 'showOverwriteConfirmation');
    const answer = window
      ? await dialog.showSaveDialog(window, { ...rest, properties })
      : await dialog.showSaveDialog({ ...rest, properties });
    return { canceled: answer.canceled, path: answer.filePath };
  }
  const properties = rest.properties.filter((p) => p !== 'showOverwriteConfirmation');
  const answer = window
    ? await dialog.showOpenDialog(window, { ...rest, properties })
    : await dialog.showOpenDialog({ ...rest, properties });
  return { canceled: answer.canceled, path: answer.filePaths[0] };
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
  const home = homeDirOf(service.context.paths);
  ipcMain.handle(IPC_PICK_PATH, (event, request: unknown) =>
    handlePickPath(event.senderFrame?.url, rendererUrl, request, home, (options) =>
      showDialog(BrowserWindow.fromWebContents(event.sender), options),
    ),
  );
  ipcMain.handle(IPC_SHOW_IN_FOLDER, (event, file: unknown) => {
    const target = showInFolderTarget(event.senderFrame?.url, rendererUrl, file, home);
    if (target) shell.showItemInFolder(target);
  });
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
