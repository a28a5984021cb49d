/**
 * Fixtures for the admin-page browser tests: Debian's Chromium driven by playwright-core, a service with the
 * page enabled, and an org whose events are written through the real ingest path. Most events live in 2003 (this
 * file's own year; the page opens it through a custom range in the URL), a few in the last days so the preset
 * ranges have something to tell apart.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { AppContext } from '../../src/context.ts';
import { PROJECT_ROOT } from '../../src/config.ts';
import { createApiKey } from '../../src/directory/api-keys.ts';
import { putMember } from '../../src/directory/members.ts';
import { putOrg } from '../../src/directory/orgs.ts';
import { putWorkspace } from '../../src/directory/workspaces.ts';
import { startService, type RunningService } from '../../src/server.ts';
import { KEY_STORAGE, launchChromium } from '../../scripts/lib/chromium.ts';
import { testConfig, uniqueId } from '../helpers.ts';

export const YEAR = 2003;
export const ARTIFACTS = path.join(PROJECT_ROOT, 'test-artifacts');

export const launchBrowser = launchChromium;

export interface PageService extends RunningService {
  ctx: AppContext;
}

/** The service with the page on; events of 2003 are ~20 years old, so days must not count as sealed. */
export async function startPageService(env: Record<string, string> = {}): Promise<PageService> {
  const cfg = testConfig({
    NEXT_PUBLIC_AUDIT_LOGS_ENABLED: 'true',
    AUDIT_LOGS_ENABLED: 'true',
    AUDIT_ADMIN_TOKEN: 'page-test-operator-token',
    AUDIT_SEAL_AFTER_DAYS: '36499',
    AUDIT_RETENTION_DAYS: '36500',
    AUDIT_RATE_LIMIT_PER_MINUTE: '100000',
    AUDIT_SEAL_INTERVAL_SECONDS: '1',
    ...env,
  });
  const service = await startService(cfg);
  return { ...service, ctx: { cfg, store: service.store } };
}

export interface PageOrg {
  orgId: string;
  workspaceId: string;
  owner: { id: string; email: string; name: string; key: string };
  /** A plain member: authenticated, but not allowed to read. */
  memberKey: string;
}

export async function createPageOrg(ctx: AppContext): Promise<PageOrg> {
  const orgId = uniqueId('org');
  await putOrg(ctx, orgId, { name: 'Acme Robotics', plan: 'enterprise' });
  const workspaceId = uniqueId('ws');
  await putWorkspace(ctx, orgId, workspaceId, { name: 'Production' });
  const ownerId = uniqueId('usr');
  const memberId = uniqueId('usr');
  const owner = { id: ownerId, email: 'alice@acme.example', name: 'Alice Smith' };
  await putMember(ctx, orgId, ownerId, { email: owner.email, name: owner.name, role: 'owner' });
  await putMember(ctx, orgId, memberId, { email: 'bob@acme.example', name: 'Bob Jones', role: 'member' });
  const ownerKey = (await createApiKey(ctx, orgId, { type: 'personal', userId: ownerId })).key;
  const memberKey = (await createApiKey(ctx, orgId, { type: 'personal', userId: memberId })).key;
  return { orgId, workspaceId, owner: { ...owner, key: ownerKey }, memberKey };
}

export { ingest } from '../integration/read-fixtures.ts';

/** A page signed in with `key` (sessionStorage is per tab, so each test context starts clean). */
export async function signedInPage(
  browser: Browser,
  key: string,
  viewport = { width: 1280, height: 900 },
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  await context.addInitScript(([name, k]) => sessionStorage.setItem(name, k), [KEY_STORAGE, key] as const);
  const page = await context.newPage();
  // A script error in the page fails the running test (mocha reports the uncaught exception there).
  page.on('pageerror', (err) => {
    throw new Error(`error in the page: ${err.message}`);
  });
  return { context, page };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  return file;
}

/** Minimal RFC 4180 reader for checking exports: quoted cells, doubled quotes, CRLF rows. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += c;
  }
  if (cell !== '' || row.length) rows.push([...row, cell]);
  return rows;
}
