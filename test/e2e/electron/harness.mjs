// Runs the built Electron main bundle (out/main/index.js) under plain Node with a stand-in `electron` module, then
// plays Chromium's side: an HTTP bridge on 127.0.0.1 forwards the page's requests to the recorded `dermfuse://`
// protocol handler and the preload's IPC calls to the recorded ipcMain handler, exactly as Electron would route them.
// Prints one JSON line: { port, summary } where summary holds what main configured and how it answers probes.
// Usage: node harness.mjs [--summary-only]   env: PROBE_URLS (JSON array), DERMFUSE_HARNESS_USERDATA.
import http from 'node:http';
import { register } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

register('./loader.mjs', import.meta.url);
const { recorded } = await import('./electronStub.mjs');
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
await import(pathToFileURL(path.join(root, 'out/main/index.js')).href);
// Let app.whenReady().then(...) run.
await new Promise((r) => setTimeout(r, 50));

const win = recorded.windows[0];
const appUrl = win.loadedUrl;
const probes = JSON.parse(process.env.PROBE_URLS ?? '[]');
const prevented = (event, url) => {
  let stopped = false;
  for (const fn of win.webContents.listeners[event] ?? []) fn({ preventDefault: () => (stopped = true) }, url);
  return stopped;
};
const handler = recorded.protocols.get('dermfuse');
const call = recorded.ipc.get('dermfuse:call');
const headers = await new Promise((resolve) => recorded.headersListener({ responseHeaders: { 'x-probe': ['1'] } }, (r) => resolve(r.responseHeaders)));

const summary = {
  sandbox: recorded.sandbox,
  schemes: recorded.schemes,
  windows: recorded.windows.length,
  webPreferences: { ...win.options.webPreferences, preload: undefined },
  preloadFile: win.options.webPreferences.preload,
  loadedUrl: appUrl,
  windowOpen: Object.fromEntries(probes.map((u) => [u, win.webContents.windowOpenHandler({ url: u })])),
  willNavigatePrevented: Object.fromEntries(probes.map((u) => [u, prevented('will-navigate', u)])),
  willRedirectPrevented: Object.fromEntries(probes.map((u) => [u, prevented('will-redirect', u)])),
  permissionGranted: await new Promise((r) => recorded.permissionRequest(null, 'media', r)),
  permissionCheck: recorded.permissionCheck(null, 'geolocation'),
  cspHeader: headers['Content-Security-Policy'],
  foreignFrameCall: await call({ senderFrame: { url: 'https://evil.example/' } }, 'project.info', {}),
  protocolStatus: Object.fromEntries(
    await Promise.all(probes.filter((u) => u.startsWith('dermfuse:')).map(async (u) => [u, (await handler(new Request(u))).status])),
  ),
  openExternal: recorded.openExternal,
};

if (process.argv.includes('--summary-only')) {
  process.stdout.write(`${JSON.stringify({ port: 0, summary })}\n`);
  process.exit(0);
}

const server = http.createServer(async (req, res) => {
  try {
    if (req.method === 'POST' && req.url === '/__ipc') {
      const chunks = [];
      for await (const c of req) chunks.push(c);
      const { channel, args } = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const ipcHandler = recorded.ipc.get(channel);
      const value = ipcHandler
        ? await ipcHandler({ senderFrame: { url: appUrl } }, ...args)
        : { ok: false, error: { code: 'INTERNAL', message: `no handler for ${channel}` } };
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify(value));
    }
    const answer = await handler(new Request(new URL(req.url, appUrl).href));
    res.writeHead(answer.status, Object.fromEntries(answer.headers));
    res.end(Buffer.from(await answer.arrayBuffer()));
  } catch (err) {
    res.writeHead(500);
    res.end(String(err));
  }
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port, summary })}\n`);
});
process.on('SIGTERM', () => {
  server.close();
  void Promise.resolve(recorded.appEvents.get('window-all-closed')?.()).finally(() => setTimeout(() => process.exit(0), 200));
});
