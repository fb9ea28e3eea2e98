import { execFileSync } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Project } from '../../src/main/project.ts';
import { tempDir } from '../fixtures/generate.ts';
import { apiCall, rawRequest } from '../fixtures/rawHttp.ts';
import { serveProcess } from '../fixtures/serveProcess.ts';

let tmp: ReturnType<typeof tempDir>;
let projectDir: string;

beforeAll(() => {
  tmp = tempDir();
  projectDir = path.join(tmp.dir, 'project');
  Project.create(projectDir).project.close();
});
afterAll(() => tmp.cleanup());

describe('dermfuse serve as a process', () => {
  it('keeps answering real requests while 400 idle sockets are open, under a 256 open-file limit', async () => {
    const s = await serveProcess(projectDir, { openFiles: 256 });
    const sockets: net.Socket[] = [];
    try {
      for (let i = 0; i < 400; i++) {
        const sock = net.connect(s.info.port, '127.0.0.1');
        sock.on('error', () => undefined);
        // Half of them start a request and never finish it (slowloris); the others say nothing.
        if (i % 2) sock.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n');
        sockets.push(sock);
      }
      await new Promise((r) => setTimeout(r, 500));
      for (let k = 0; k < 5; k++) {
        const r = await apiCall(s.info.port, s.token, 'project.info', {});
        expect(r.status).toBe(200);
      }
    } finally {
      for (const sock of sockets) sock.destroy();
      expect(await s.stop()).toBe(0);
    }
    expect(s.stderr()).not.toMatch(/EMFILE| {4}at /);
  });

  it('answers a malformed request line with 400 and logs no stack trace', async () => {
    const s = await serveProcess(projectDir);
    try {
      const reply = await new Promise<string>((resolve) => {
        const sock = net.connect(s.info.port, '127.0.0.1', () => sock.write('GARBAGE \x01 NOT-HTTP\r\n\r\n'));
        let data = '';
        sock.on('data', (d) => (data += d.toString()));
        sock.on('close', () => resolve(data));
        sock.on('error', () => resolve(data));
      });
      expect(reply).toMatch(/^HTTP\/1\.1 400 Bad Request/);
      const bad = await rawRequest(s.info.port, { path: '/%E0%A4%A', headers: { host: `127.0.0.1:${s.info.port}` } });
      expect(bad.status).toBe(400);
      expect((await apiCall(s.info.port, s.token, 'project.info', {})).status).toBe(200);
    } finally {
      await s.stop();
    }
    expect(s.stderr()).not.toMatch(/ {4}at |Error:/);
  });

  it('refuses --host 0.0.0.0 without TLS unless --insecure-http, naming why', async () => {
    await expect(serveProcess(projectDir, { args: ['--host', '0.0.0.0'] })).rejects.toThrow(
      /--host 0\.0\.0\.0 without TLS would send every sign-in token and patient photo across the network in clear text.*--insecure-http/,
    );
  });

  it('on --host 0.0.0.0 --insecure-http accepts the machine’s own addresses, prints them, and warns of clear text', async () => {
    const s = await serveProcess(projectDir, { args: ['--host', '0.0.0.0', '--insecure-http'] });
    try {
      expect(s.stderr()).toMatch(/without TLS: the token and patient data cross the network in clear text/);
      const own = s.info.urls.map((u) => new URL(u).host);
      expect(own.length).toBeGreaterThan(0);
      // Sent over loopback (no traffic leaves this machine) with the Host header another machine would send.
      for (const host of own) {
        const r = await rawRequest(s.info.port, {
          method: 'POST',
          path: '/api/project.info',
          headers: { host, authorization: `Bearer ${s.token}`, 'content-type': 'application/json', origin: `http://${host}` },
          body: '{}',
        });
        expect(r.status, host).toBe(200);
      }
      const rebinding = await rawRequest(s.info.port, {
        method: 'POST',
        path: '/api/project.info',
        headers: { host: `evil.example:${s.info.port}`, authorization: `Bearer ${s.token}`, 'content-type': 'application/json' },
        body: '{}',
      });
      expect(rebinding.status).toBe(403);
    } finally {
      await s.stop();
    }
  });

  it('serves HTTPS with --tls-cert and --tls-key, sends HSTS and sets a Secure cookie at sign-in', async () => {
    const cert = path.join(tmp.dir, 'cert.pem');
    const key = path.join(tmp.dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], {
      stdio: 'ignore',
    });
    const s = await serveProcess(projectDir, { args: ['--tls-cert', cert, '--tls-key', key] });
    try {
      expect(s.info.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/\?token=/);
      const page = await rawRequest(s.info.port, { path: `/?token=${s.token}`, headers: { host: `127.0.0.1:${s.info.port}` }, tls: true });
      expect(page.status).toBe(200);
      expect(page.headers['set-cookie']).toBeUndefined();
      expect(page.headers['strict-transport-security']).toMatch(/max-age=\d+/);
      const session = await rawRequest(s.info.port, {
        method: 'POST',
        path: '/media/session',
        headers: { host: `127.0.0.1:${s.info.port}`, authorization: `Bearer ${s.token}`, 'content-type': 'application/json' },
        body: '{}',
        tls: true,
      });
      expect(String(session.headers['set-cookie'])).toMatch(/HttpOnly; SameSite=Strict; Path=\/media; Secure/);
      const r = await rawRequest(s.info.port, {
        method: 'POST',
        path: '/api/project.info',
        headers: { host: `127.0.0.1:${s.info.port}`, authorization: `Bearer ${s.token}`, 'content-type': 'application/json' },
        body: '{}',
        tls: true,
      });
      expect(JSON.parse(r.body)).toMatchObject({ ok: true });
    } finally {
      await s.stop();
    }
  });
});
