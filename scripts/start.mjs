#!/usr/bin/env node
// `npm start`: build, make sure the Electron binary and an Electron-ABI build of better-sqlite3 exist, launch.
// The Node build of better-sqlite3 in node_modules is left alone (tests and the CLI use it); the Electron one
// lives in .cache/electron-native/<electron version>/ and is handed to the app through DERMFUSE_SQLITE_BINDING.
import { spawnSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const electronDir = path.join(root, 'node_modules/electron');
const electronVersion = JSON.parse(fs.readFileSync(path.join(electronDir, 'package.json'), 'utf8')).version;
const SERVE_HINT = 'Run DermFuse in a browser instead: npx dermfuse serve PROJECT_DIR';

function fail(line) {
  process.stderr.write(`dermfuse: ${line}\n${SERVE_HINT}\n`);
  process.exit(1);
}

function run(cmd, args, opts = {}) {
  return spawnSync(cmd, args, { cwd: root, encoding: 'utf8', ...opts });
}

// 1. Build main, preload and renderer.
const build = run(process.execPath, [path.join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

// 2. The Electron binary is downloaded on first start.
function electronBinary() {
  const pathFile = path.join(electronDir, 'path.txt');
  if (!fs.existsSync(pathFile)) return null;
  const bin = path.join(electronDir, 'dist', fs.readFileSync(pathFile, 'utf8'));
  return fs.existsSync(bin) ? bin : null;
}
if (!electronBinary()) {
  process.stderr.write(`Downloading Electron ${electronVersion} (first start only)…\n`);
  const dl = run(process.execPath, [path.join(electronDir, 'install.js')]);
  if (dl.status !== 0 || !electronBinary()) {
    const reason = (dl.stderr || dl.stdout || '')
      .split('\n')
      .find((l) => /error|ENOTFOUND|EAI_AGAIN|ECONN|fetch failed/i.test(l))
      ?.trim();
    fail(`the Electron ${electronVersion} binary could not be downloaded${reason ? ` (${reason})` : ''}; the desktop window needs it once, with network.`);
  }
}

// 3. Fuses: no ELECTRON_RUN_AS_NODE, NODE_OPTIONS or --inspect on this binary (scripts/fuses.mjs).
const { applyFuses } = await import('./fuses.mjs');
await applyFuses(electronBinary(), false);

// 4. better-sqlite3 compiled for Electron's ABI, once per Electron version.
const nativeDir = path.join(root, '.cache/electron-native', electronVersion);
const binding = path.join(nativeDir, 'build/Release/better_sqlite3.node');
if (!fs.existsSync(binding)) {
  process.stderr.write(`Building better-sqlite3 for Electron ${electronVersion} (first start only)…\n`);
  fs.rmSync(nativeDir, { recursive: true, force: true });
  fs.cpSync(path.join(root, 'node_modules/better-sqlite3'), nativeDir, { recursive: true, filter: (src) => !src.includes(`${path.sep}build${path.sep}`) });
  const env = { ...process.env, npm_config_runtime: 'electron', npm_config_target: electronVersion, npm_config_disturl: 'https://electronjs.org/headers' };
  const prebuilt = run(process.execPath, [path.join(root, 'node_modules/prebuild-install/bin.js'), '--runtime', 'electron', '--target', electronVersion], {
    cwd: nativeDir,
    env,
  });
  if (prebuilt.status !== 0 || !fs.existsSync(binding)) {
    const gyp = process.env.npm_config_node_gyp;
    const compiled = gyp
      ? run(process.execPath, [gyp, 'rebuild', '--release', `--target=${electronVersion}`, '--dist-url=https://electronjs.org/headers'], {
          cwd: nativeDir,
          env,
        })
      : { status: 1 };
    if (compiled.status !== 0 || !fs.existsSync(binding))
      fail(`better-sqlite3 could not be built for Electron ${electronVersion} (no prebuilt binary and no compiler run succeeded).`);
  }
}

// 5. Launch.
const child = spawn(electronBinary(), [root], { stdio: 'inherit', env: { ...process.env, DERMFUSE_SQLITE_BINDING: binding } });
child.on('exit', (code) => process.exit(code ?? 0));
