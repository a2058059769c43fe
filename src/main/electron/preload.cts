/**
 * Sandboxed preload: exposes exactly the typed transport (`invoke`, `onEvent`), the native path
 * dialog (`pickPath`) and "Show in folder" (`showInFolder`), nothing else; the main process
 * validates every argument.
 * A sandboxed preload can require only `electron`, so the channel names are repeated here
 * (test/unit/electron checks them against src/shared/ipc.ts).
 */
import electron = require('electron');

const { contextBridge, ipcRenderer } = electron;
type IpcRendererEvent = electron.IpcRendererEvent;

const IPC_INVOKE = 'freezelab:invoke';
const IPC_EVENT = 'freezelab:event';
const IPC_PICK_PATH = 'freezelab:pick-path';
const IPC_SHOW_IN_FOLDER = 'freezelab:show-in-folder';

contextBridge.exposeInMainWorld('freezelab', {
  invoke: (name: string, input: unknown): Promise<unknown> => ipcRenderer.invoke(IPC_INVOKE, name, input),
  onEvent: (listener: (message: unknown) => void): (() => void) => {
    const wrapped = (_event: IpcRendererEvent, message: unknown) => listener(message);
    ipcRenderer.on(IPC_EVENT, wrapped);
    return () => ipcRenderer.removeListener(IPC_EVENT, wrapped);
  },
  pickPath: (request: unknown): Promise<unknown> => ipcRenderer.invoke(IPC_PICK_PATH, request),
  showInFolder: (file: string): Promise<unknown> => ipcRenderer.invoke(IPC_SHOW_IN_FOLDER, file),
});
