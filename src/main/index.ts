// The thin Electron entry: window, security, and the IPC binding of the contract. Everything else is shared
// with the CLI and `serve` mode and never imports electron.
import path from 'node:path';
import fs from 'node:fs';
import { app, BrowserWindow, dialog, ipcMain, protocol, session, shell } from 'electron';
import { mediaFile } from './api/media.ts';
import { Service } from './api/service.ts';
import { RecentProjects } from './api/recent.ts';
import { setSqliteNativeBinding } from './db/open.ts';
import { CONTENT_SECURITY_POLICY } from './security.ts';

// The Electron-ABI build of better-sqlite3 made by scripts/start.mjs; the Node build stays for tests and the CLI.
setSqliteNativeBinding(process.env.DERMFUSE_SQLITE_BINDING || undefined);
app.enableSandbox();
// Images reach the renderer through this scheme, by image id only (the same lookup as serve's /media route).
protocol.registerSchemesAsPrivileged([{ scheme: 'dermfuse-image', privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

let service: Service;

function rendererUrl(): string {
  return process.env.ELECTRON_RENDERER_URL ?? `file://${path.join(__dirname, '../renderer/index.html')}`;
}

function isOwnUrl(url: string): boolean {
  return url.startsWith(rendererUrl().split('#')[0]!.replace(/index\.html$/, ''));
}

function createWindow(): void {
  const win = new BrowserWindow({
    width: 1400,
    height: 900,
    title: 'DermFuse',
    webPreferences: {
      preload: path.join(__dirname, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: false,
    },
  });
  // Nothing leaves the app: new windows open in the system browser (http/https only), navigation away is blocked.
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (/^https?:\/\//.test(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  win.webContents.on('will-navigate', (event, url) => {
    if (!isOwnUrl(url)) event.preventDefault();
  });
  void win.loadURL(rendererUrl());
}

void app.whenReady().then(() => {
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });
  });
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  service = new Service(
    {
      pickFolder: async (title) => {
        const r = await dialog.showOpenDialog({ title: title ?? 'Choose a folder', properties: ['openDirectory', 'createDirectory'] });
        return r.canceled ? null : (r.filePaths[0] ?? null);
      },
    },
    new RecentProjects(path.join(app.getPath('userData'), 'recent.json')),
  );
  protocol.handle('dermfuse-image', async (request) => {
    const url = new URL(request.url);
    const project = service.current();
    const kind = url.hostname === 'thumb' ? 'thumb' : url.hostname === 'image' ? 'image' : null;
    const file = project && kind ? mediaFile(project, kind, url.pathname.replace(/^\//, '')) : null;
    if (!file) return new Response('No such image.', { status: 404 });
    return new Response(await fs.promises.readFile(file.file), { headers: { 'content-type': file.contentType } });
  });
  ipcMain.handle('dermfuse:call', (event, name: unknown, req: unknown) => {
    if (!event.senderFrame || !isOwnUrl(event.senderFrame.url)) {
      return { ok: false, error: { code: 'UNAUTHORIZED', message: 'Calls are accepted only from the DermFuse window.' } };
    }
    return service.dispatch(name, req);
  });
  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
});

app.on('window-all-closed', () => {
  // A running job is cancelled and waited for, so the project is left consistent.
  void (service?.close() ?? Promise.resolve()).finally(() => {
    if (process.platform !== 'darwin') app.quit();
  });
});
