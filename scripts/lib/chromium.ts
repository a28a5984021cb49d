/**
 * Debian's Chromium driven by playwright-core (a dev dependency: used by the browser tests and the page benchmark,
 * never by the service). Never `npx playwright install`: the browser comes from the system (`.ci/run` installs it).
 */
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** The sessionStorage entry the page keeps the admin's key in (see public/api.js). */
export const KEY_STORAGE = 'audit-logs.apiKey';
