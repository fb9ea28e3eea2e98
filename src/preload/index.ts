// Exposes one function on window: send a named contract call to main. No ipcRenderer, no Node, nothing else.
// The typed client is built from it in the renderer (src/renderer/src/api.ts); main validates every request.
import { contextBridge, ipcRenderer } from 'electron';

contextBridge.exposeInMainWorld('dermfuse', {
  call: (name: string, req: unknown): Promise<unknown> => ipcRenderer.invoke('dermfuse:call', name, req),
});
