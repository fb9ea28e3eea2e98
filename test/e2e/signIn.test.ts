import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAccount } from '../../src/main/team/accounts.ts';
import { Project } from '../../src/main/project.ts';
import { tempDir } from '../fixtures/generate.ts';
import { launch } from './browser.ts';
import { serveProject, type Served } from './serveProject.ts';

/**
 * Login CSRF: a page of another origin sends the browser to a sign-in link of another account. The browser's
 * account must not change behind the person's back: the page asks, naming both.
 */
const tmp = tempDir();
let served: Served;
let browser: Browser;
let attacker: http.Server;
let attackerUrl: string;
let anaToken: string;
let eveToken: string;

const link = (token: string) => `${new URL(served.server.url).origin}/?token=${token}`;
const mediaCookie = async (context: BrowserContext) => (await context.cookies()).find((c) => c.name === 'dermfuse_token')?.value;

beforeAll(async () => {
  const dir = path.join(tmp.dir, 'p');
  const p = Project.create(dir).project;
  anaToken = addAccount(p.db, 'ana', 'annotator');
  eveToken = addAccount(p.db, 'eve', 'annotator');
  p.close();
  served = await serveProject(dir, tmp.dir);
  browser = await launch();
  // The attacker's page, on another port of the same machine.
  attacker = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<!doctype html><script>location = ${JSON.stringify(link(eveToken))};</script>`);
  });
  await new Promise<void>((r) => attacker.listen(0, '127.0.0.1', () => r()));
  attackerUrl = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}/`;
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await served?.close();
  await new Promise((r) => attacker?.close(r));
  tmp.cleanup();
});

describe('a sign-in link opened while someone else is signed in', () => {
  it('asks before switching, naming both accounts; staying keeps the browser signed in as before', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    await page.goto(link(anaToken));
    await expect.poll(() => page.getByTestId('signed-in').textContent()).toMatch(/^ana · annotator/);
    expect(await mediaCookie(context)).toBe(anaToken);
    expect(page.url()).not.toContain('token=');

    const lured = await context.newPage();
    lured.setDefaultTimeout(15_000);
    await lured.goto(attackerUrl);
    await lured.getByTestId('switch-account').waitFor();
    expect(await lured.getByTestId('switch-account').textContent()).toMatch(/signed in as ana.*signs in as eve/);
    // Nothing switched while the question is open.
    expect(await mediaCookie(context)).toBe(anaToken);
    await lured.getByTestId('switch-stay').click();
    await expect.poll(() => lured.getByTestId('signin-error').textContent()).toMatch(/open ana's own sign-in link again/);
    expect(await mediaCookie(context)).toBe(anaToken);
    // The first tab is still ana's.
    await page.reload();
    await expect.poll(() => page.getByTestId('signed-in').textContent()).toMatch(/^ana · annotator/);
    await context.close();
  });

  it('switches when the person says so', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    await page.goto(link(anaToken));
    await expect.poll(() => page.getByTestId('signed-in').textContent()).toMatch(/^ana/);
    await page.goto(link(eveToken));
    await page.getByTestId('switch-accept').click();
    await expect.poll(() => page.getByTestId('signed-in').textContent()).toMatch(/^eve · annotator/);
    expect(await mediaCookie(context)).toBe(eveToken);
    await context.close();
  });
});
