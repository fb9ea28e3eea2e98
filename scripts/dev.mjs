#!/usr/bin/env node
// `npm run dev [-- DIR | --sample [DIR]] [--port P]`: the renderer with hot reload in a browser, against the real
// main process in `dermfuse serve` (restart this script to pick up main-side changes). Vite serves the renderer's
// source; /api and /media are proxied to serve with its token, so the page needs none. Prints one line: the URL.
// With --electron, where the Electron binary was downloaded (`npm start` once), runs `electron-vite dev` instead.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values, positionals } = parseArgs({
  options: { sample: { type: 'boolean' }, port: { type: 'string' }, electron: { type: 'boolean' } },
  allowPositionals: true,
});

if (values.electron) {
  const child = spawn(process.execPath, [path.join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'dev'], { cwd: root, stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
} else {
  const project = positionals[0] ?? (values.sample ? path.join(root, '.cache/dev-sample') : undefined);
  if (!project) {
    process.stderr.write('usage: npm run dev -- PROJECT_DIR   (or: npm run dev -- --sample)\n');
    process.exit(2);
  }
  const serveArgs = [path.join(root, 'bin/dermfuse.mjs'), 'serve', project, '--json', ...(values.sample ? ['--sample'] : [])];
  const serve = spawn(process.execPath, serveArgs, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  const info = await new Promise((resolve, reject) => {
    let out = '';
    serve.stdout.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]));
    });
    serve.on('exit', (code) => reject(new Error(`dermfuse serve exited with ${code}`)));
  });
  const target = new URL(info.url);
  const token = target.searchParams.get('token');
  const { createServer } = await import('vite');
  const { default: react } = await import('@vitejs/plugin-react');
  // The proxy adds the token and presents the dev page's own requests as coming from serve's origin; a request
  // from any other origin keeps its Origin header and is refused by serve as it would be without the proxy.
  const forward = (devOrigin) => ({
    target: target.origin,
    changeOrigin: true,
    configure: (proxy) =>
      proxy.on('proxyReq', (req) => {
        req.setHeader('authorization', `Bearer ${token}`);
        if (req.getHeader('origin') === devOrigin()) req.setHeader('origin', target.origin);
      }),
  });
  let devOrigin = '';
  const vite = await createServer({
    configFile: false,
    root: path.join(root, 'src/renderer'),
    // React's hot reload injects an inline script that the production CSP (meta tag) forbids: dev drops the tag.
    plugins: [react(), { name: 'dev-without-csp-meta', transformIndexHtml: (html) => html.replace(/<meta http-equiv="Content-Security-Policy"[^>]*>\s*/, '') }],
    server: {
      host: '127.0.0.1',
      port: values.port ? Number(values.port) : 5173,
      strictPort: false,
      proxy: { '/api': forward(() => devOrigin), '/media': forward(() => devOrigin) },
    },
  });
  await vite.listen();
  const address = vite.httpServer.address();
  devOrigin = `http://127.0.0.1:${address.port}`;
  process.stdout.write(`${JSON.stringify({ url: `${devOrigin}/`, serve: target.origin, project: path.resolve(project) })}\n`);
  const stop = async () => {
    await vite.close();
    serve.kill('SIGTERM');
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
