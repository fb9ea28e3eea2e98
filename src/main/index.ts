// The thin Electron entry: window, security, the app scheme and the IPC binding of the contract. Everything else is
// shared with the CLI and `serve` mode and never imports electron.
import fs from 'node:fs';
import path from 'node:path';
import { app, BrowserWindow, dialog, ipcMain, protocol, session } from 'electron';
import { openMedia, readMedia } from './api/media.ts';
import { RecentProjects } from './api/recent.ts';
import { LOCAL_ORIGIN, Service } from './api/service.ts';
import { setSqliteNativeBinding } from './db/open.ts';
import { APP_SCHEME, isOwnUrl, rendererUrl, resolveAppRequest } from './desktopUrls.ts';
import { resourcesDir } from './resources.ts';
import { CONTENT_SECURITY_POLICY } from './security.ts';

// The Electron-ABI build of better-sqlite3 made by scripts/start.mjs; the Node build stays for tests and the CLI.
setSqliteNativeBinding(process.env.DERMFUSE_SQLITE_BINDING || undefined);
app.enableSandbox();
// The renderer and its images come from this scheme: standard (relative URLs), secure (no mixed content), fetchable.
protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

const devServer = process.env.ELECTRON_RENDERER_URL || undefined;
const RENDERER_DIR = path.join(__dirname, '../renderer');
let service: Service;

function createWindow(): void {
  const win = new BrowserWindow({
    width: 1400,
    height: 900,
    title: 'DermFuse',
    icon: path.join(resourcesDir(), 'icon.png'),
    webPreferences: {
      preload: path.join(__dirname, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  });
  // Nothing leaves the app: no new windows, no system browser, no navigation or redirect to another origin.
  win.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  const stayInApp = (event: { preventDefault(): void }, url: string) => {
    if (!isOwnUrl(url, devServer)) event.preventDefault();
  };
  win.webContents.on('will-navigate', stayInApp);
  win.webContents.on('will-redirect', stayInApp);
  void win.loadURL(rendererUrl(devServer));
}

async function serveAppRequest(request: Request): Promise<Response> {
  const target = resolveAppRequest(request.url, RENDERER_DIR);
  switch (target.kind) {
    case 'media': {
      const project = service.current();
      const media = project ? await openMedia(project, target.media, target.id, await service.mediaRoots()) : null;
      if (target.media === 'image') service.logMedia(undefined, Number(target.id), media ? 'ok' : 'NOT_FOUND', LOCAL_ORIGIN);
      if (!media) return new Response('No such image.', { status: 404 });
      return new Response(await readMedia(media), { headers: { 'content-type': media.contentType } });
    }
    case 'file':
      return new Response(await fs.promises.readFile(target.file), {
        headers: { 'content-type': target.contentType, 'content-security-policy': CONTENT_SECURITY_POLICY },
      });
    case 'none':
      return new Response('Not found.', { status: 404 });
    default: {
      const never: never = target;
      throw new Error(`unknown app request ${JSON.stringify(never)}`);
    }
  }
}

void app.whenReady().then(() => {
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });
  });
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
  service = new Service(
    {
      pickFolder: async (title, kind) => {
        const r = await dialog.showOpenDialog(
          kind === 'csv'
            ? { title: title ?? 'Choose a CSV file', properties: ['openFile'], filters: [{ name: 'CSV', extensions: ['csv', 'tsv', 'txt'] }] }
            : { title: title ?? 'Choose a folder', properties: ['openDirectory', 'createDirectory'] },
        );
        return r.canceled ? null : (r.filePaths[0] ?? null);
      },
    },
    new RecentProjects(path.join(app.getPath('userData'), 'recent.json')),
  );
  protocol.handle(APP_SCHEME, serveAppRequest);
  ipcMain.handle('dermfuse:call', (event, name: unknown, req: unknown) => {
    if (!event.senderFrame || !isOwnUrl(event.senderFrame.url, devServer)) {
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
