import fs from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's Chromium, as CI installs it. Without it the e2e suite fails loudly rather than passing empty. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launch(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`End-to-end tests need Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH).`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
    ],
  });
}

/**
 * The job bar's kind and status, e.g. "train done": a finished earlier job of another kind does not match. When an
 * earlier job of the same kind may still be on the bar, pass its id (`jobOnBar` before starting) and it reads null.
 */
export async function jobState(page: Page, notJob?: string | null): Promise<string | null> {
  const bar = page.getByTestId('job-bar');
  if ((await bar.count()) === 0) return null;
  if (notJob != null && (await bar.getAttribute('data-job')) === notJob) return null;
  return `${await bar.getAttribute('data-kind')} ${await bar.getAttribute('data-status')}`;
}

/** The id of the job on the bar, or null with none. */
export async function jobOnBar(page: Page): Promise<string | null> {
  const bar = page.getByTestId('job-bar');
  return (await bar.count()) === 0 ? null : bar.getAttribute('data-job');
}
