/**
 * The admin page in a real Chromium against the real service and OpenSearch: what an org admin sees and does.
 */
import fs from 'node:fs';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { PUBLIC_FIELDS, type AuditEntry } from '../../src/events/schema.ts';
import { dayIndex } from '../../src/store/names.ts';
import { PAGE_PATH } from '../../src/ui/ui-routes.ts';
import { uniqueId } from '../helpers.ts';
import { rewriteDayIndex, sealAll, uniqueDay } from '../fixtures/integrity.ts';
import {
  createPageOrg,
  ingest,
  launchBrowser,
  parseCsv,
  screenshot,
  signedInPage,
  startPageService,
  YEAR,
  type PageOrg,
  type PageService,
} from '../fixtures/page.ts';

const YEAR_VIEW = `range=custom&from=${YEAR}-01-01T00:00:00.000Z&to=${YEAR}-12-31T23:59:59.999Z`;
const ACTIONS = [
  'workflow.created',
  'workflow.deployed',
  'workflow.deleted',
  'member.invited',
  'api_key.revoked',
];
const BULK = 120;
/** Event ids are unique per run: the 2003 day indices are shared by every run against the same engine. */
const RUN = uniqueId('p');
const ZEPHYRINE = `${RUN}_zephyrine`;
const SYSTEM = `${RUN}_system`;
const HOSTILE = `${RUN}_hostile`;

const actorOf = (org: PageOrg) => ({
  actorId: org.owner.id,
  actorName: org.owner.name,
  actorEmail: org.owner.email,
});
const rowIds = (page: Page) =>
  page.$$eval('#rows tr.entry', (rows) => rows.map((r) => (r as HTMLElement).dataset.id!));
const waitForRowCount = (page: Page, n: number) =>
  page.waitForFunction((n) => document.querySelectorAll('#rows tr.entry').length === n, n);
const idle = (page: Page) => page.waitForFunction(() => !document.querySelector('#results[aria-busy]'));

describe('admin page (browser)', function () {
  this.timeout(180_000);
  let service: PageService;
  let browser: Browser;
  let org: PageOrg;
  let base: string;

  /** Every entry the API lists for a query string, following the cursor. */
  async function apiAll(query: string): Promise<AuditEntry[]> {
    const out: AuditEntry[] = [];
    let cursor = '';
    for (;;) {
      const res = await fetch(`${base}/api/v1/audit-logs?${query}&limit=100${cursor}`, {
        headers: { authorization: `Bearer ${org.owner.key}` },
      });
      const body = (await res.json()) as { data: AuditEntry[]; nextCursor?: string };
      if (res.status !== 200) throw new Error(JSON.stringify(body));
      out.push(...body.data);
      if (!body.nextCursor) return out;
      cursor = `&cursor=${encodeURIComponent(body.nextCursor)}`;
    }
  }

  before(async () => {
    service = await startPageService();
    base = service.url;
    org = await createPageOrg(service.ctx);
    const actor = actorOf(org);
    const events: Record<string, unknown>[] = [];
    for (let i = 0; i < BULK; i++) {
      const action = ACTIONS[i % ACTIONS.length]!;
      events.push({
        id: `${RUN}_${String(i).padStart(3, '0')}`,
        action,
        resourceType: action.split('.')[0],
        resourceId: `res_${i}`,
        resourceName: `Pipeline ${i}`,
        workspaceId: org.workspaceId,
        ...actor,
        metadata: { step: i, tags: ['nightly', 'etl'] },
        createdAt: new Date(Date.UTC(YEAR, 2, 1) + i * 3_600_000).toISOString(),
      });
    }
    events.push(
      {
        id: ZEPHYRINE,
        action: 'workflow.locked',
        resourceType: 'workflow',
        resourceName: 'Zephyrine Billing Sync',
        ...actor,
        createdAt: `${YEAR}-06-01T10:00:00.000Z`,
      },
      {
        id: SYSTEM,
        action: 'organization.updated',
        resourceType: 'organization',
        description: 'Nightly retention job trimmed stale sessions',
        createdAt: `${YEAR}-06-02T10:00:00.000Z`,
      },
      {
        id: HOSTILE,
        action: 'table.exported',
        resourceType: 'table',
        description: '=HYPERLINK("http://evil.example","click"), with "quotes"\nand <b>a newline</b>',
        ...actor,
        createdAt: `${YEAR}-06-03T10:00:00.000Z`,
      },
      {
        action: 'workflow.deployed',
        resourceType: 'workflow',
        resourceName: 'Hourly Report',
        ...actor,
        createdAt: new Date(Date.now() - 2 * 3_600_000).toISOString(),
      },
      {
        action: 'workflow.deployed',
        resourceType: 'workflow',
        resourceName: 'Weekly Digest',
        ...actor,
        createdAt: new Date(Date.now() - 3 * 86_400_000).toISOString(),
      },
    );
    await ingest(service.ctx, org.orgId, events);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await service?.close();
  });

  it('redirects / to the page and shows the newest 50 events of the view with the four columns', async () => {
    const { context, page } = await signedInPage(browser, org.owner.key);
    await page.goto(`${base}/`);
    expect(new URL(page.url()).pathname).to.equal(PAGE_PATH);
    await page.goto(`${base}${PAGE_PATH}?${YEAR_VIEW}`);
    await waitForRowCount(page, 50);
    expect(
      await page.$$eval('.log-table thead th', (th) => th.map((t) => t.textContent!.trim())),
    ).to.deep.equal(['Timestamp', 'Event', 'Description', 'Actor']);
    const expected = (await apiAll(`startDate=${YEAR}-01-01&endDate=${YEAR}-12-31`)).slice(0, 50);
    expect(await rowIds(page)).to.deep.equal(expected.map((e) => e.id));

    // Timestamp: exact UTC on hover; actor: email with the name on hover; destructive events stand out.
    const deleted = page.locator('#rows tr.entry', { hasText: 'workflow.deleted' }).first();
    const time = deleted.locator('time');
    expect(await time.getAttribute('title')).to.match(new RegExp(`^${YEAR}-\\d\\d-\\d\\dT.*Z \\(UTC\\)$`));
    expect(await deleted.locator('.badge').getAttribute('class')).to.contain('badge-destructive');
    expect(await deleted.locator('.actor').textContent()).to.equal(org.owner.email);
    expect(await deleted.locator('.actor').getAttribute('title')).to.equal(
      `${org.owner.name} <${org.owner.email}>`,
    );
    const created = page.locator('#rows tr.entry', { hasText: 'workflow.created' }).first();
    expect(await created.locator('.badge').getAttribute('class')).to.not.contain('badge-destructive');
    const system = page.locator(`#rows tr.entry[data-id="${SYSTEM}"]`);
    expect(await system.locator('.actor').textContent()).to.equal('System');
    // Hostile text is shown as text, never as markup.
    const hostile = page.locator(`#rows tr.entry[data-id="${HOSTILE}"] .col-desc`);
    expect(await hostile.textContent()).to.contain('<b>a newline</b>');
    expect(await hostile.locator('b').count()).to.equal(0);

    // The histogram counts the whole view, not only the loaded page.
    await page.waitForFunction(() => document.querySelectorAll('#histogram .hist-bar').length > 0);
    await page.waitForFunction(
      (n) => document.getElementById('summary')!.textContent!.includes(`of ${n}`),
      BULK + 3,
    );
    await context.close();
  });

  it('search narrows the rows, highlights the matched word and is kept in the URL', async () => {
    const { context, page } = await signedInPage(browser, org.owner.key);
    await page.goto(`${base}${PAGE_PATH}?${YEAR_VIEW}`);
    await waitForRowCount(page, 50);
    await page.fill('#search', 'zephyrine');
    await waitForRowCount(page, 1);
    expect(await rowIds(page)).to.deep.equal([ZEPHYRINE]);
    expect(await page.locator('#rows mark').first().textContent()).to.equal('Zephyrine');
    expect(new URL(page.url()).searchParams.get('q')).to.equal('zephyrine');

    // The link reproduces the view in a fresh tab.
    const again = await context.newPage();
    await again.goto(page.url());
    await waitForRowCount(again, 1);
    expect(await again.inputValue('#search')).to.equal('zephyrine');

    await page.fill('#search', 'no-such-word-anywhere');
    await page.waitForSelector('.state-empty');
    expect(await page.locator('#state').textContent()).to.contain('No events match');
    await context.close();
  });

  it('the event type filter shows only the chosen types', async () => {
    const { context, page } = await signedInPage(browser, org.owner.key);
    await page.goto(`${base}${PAGE_PATH}?${YEAR_VIEW}`);
    await waitForRowCount(page, 50);
    await page.click('#action-filter .multi-button');
    await page.fill('#action-filter .multi-filter', 'workflow.del');
    await page.check('#action-filter input[value="workflow.deleted"]');
    await page.keyboard.press('Escape');
    const expected = BULK / ACTIONS.length;
    await waitForRowCount(page, expected);
    const badges = await page.$$eval('#rows .badge', (b) => b.map((x) => x.textContent));
    expect(new Set(badges)).to.deep.equal(new Set(['workflow.deleted']));
    expect(new URL(page.url()).searchParams.get('action')).to.equal('workflow.deleted');
    expect(await page.getAttribute('#action-filter .multi-button', 'aria-label')).to.contain(
      'workflow.deleted',
    );
    await context.close();
  });

  it('the date range selector: 30 days by default, then past 24 hours and all time', async () => {
    const { context, page } = await signedInPage(browser, org.owner.key);
    await page.goto(`${base}${PAGE_PATH}`);
    await page.waitForSelector('#rows tr.entry');
    await idle(page);
    expect(await page.inputValue('#range')).to.equal('30d');
    const text = () => page.locator('#rows').textContent();
    expect(await text())
      .to.contain('Hourly Report')
      .and.to.contain('Weekly Digest');
    expect(
      await page.$$eval(
        '#rows time',
        (t) => t.filter((x) => x.getAttribute('datetime')!.startsWith('2003')).length,
      ),
    ).to.equal(0);

    await page.selectOption('#range', '24h');
    await page.waitForFunction(
      () => !document.getElementById('rows')!.textContent!.includes('Weekly Digest'),
    );
    await idle(page);
    expect(await text()).to.contain('Hourly Report');
    expect(new URL(page.url()).searchParams.get('range')).to.equal('24h');

    await page.selectOption('#range', 'all');
    await page.waitForFunction(() =>
      Array.from(document.querySelectorAll('#rows time')).some((t) =>
        t.getAttribute('datetime')!.startsWith('2003'),
      ),
    );
    expect(await text()).to.contain('Weekly Digest');
    await context.close();
  });

  it('"Load more" appends the next page without duplicates, even when clicked twice at once', async () => {
    const { context, page } = await signedInPage(browser, org.owner.key);
    await page.goto(`${base}${PAGE_PATH}?${YEAR_VIEW}`);
    await waitForRowCount(page, 50);
    await idle(page);
    // Two clicks in the same task: the second must not fetch (or render) the same page again.
    await page.evaluate(() => {
      const b = document.getElementById('load-more')!;
      b.click();
      b.click();
    });
    await waitForRowCount(page, 100);
    await idle(page);
    await page.click('#load-more');
    await waitForRowCount(page, BULK + 3);
    await page.waitForSelector('#end-note', { state: 'visible' });
    expect(await page.isHidden('#load-more')).to.equal(true);
    const ids = await rowIds(page);
    expect(new Set(ids).size).to.equal(ids.length);
    const all = await apiAll(`startDate=${YEAR}-01-01&endDate=${YEAR}-12-31`);
    expect(ids).to.deep.equal(all.map((e) => e.id));
    await context.close();
  });

  it('a row expands to every field, the metadata and its integrity state', async () => {
    const { context, page } = await signedInPage(browser, org.owner.key);
    await page.goto(`${base}${PAGE_PATH}?${YEAR_VIEW}&q=pipeline`);
    await page.waitForSelector('#rows tr.entry');
    const row = page.locator('#rows tr.entry').first();
    const id = (await row.getAttribute('data-id'))!;
    await row.focus();
    await page.keyboard.press('Enter');
    const detail = page.locator('#rows tr.detail-row');
    await detail.waitFor();
    expect(await row.getAttribute('aria-expanded')).to.equal('true');
    const entry = (await apiAll(`startDate=${YEAR}-01-01&endDate=${YEAR}-12-31`)).find((e) => e.id === id)!;
    const fields = await detail.locator('dd').allTextContents();
    for (const value of [
      entry.id,
      entry.resourceId,
      entry.resourceName,
      entry.workspaceId,
      entry.actorId,
      entry.actorName,
    ]) {
      expect(fields).to.include(value);
    }
    expect(await detail.locator('pre.metadata').textContent()).to.equal(
      JSON.stringify(entry.metadata, null, 2),
    );
    await page.waitForFunction(
      () => !document.querySelector('.integrity')!.textContent!.includes('Checking'),
    );
    // Pending or already sealed, depending on the sealer's round (the sealed state is checked below).
    expect(await detail.locator('.integrity').textContent()).to.match(
      /^(Pending Recorded|Sealed in seal #\d+)/,
    );
    await screenshot(page, 'page-1280-expanded');
    await page.keyboard.press('Enter');
    await detail.waitFor({ state: 'detached' });
    await context.close();
  });

  it('shows a sealed entry as checked in the browser only when entry, path and signature all check', async () => {
    const id = `${RUN}_sealed`;
    await ingest(service.ctx, org.orgId, [
      {
        id,
        action: 'credential.deleted',
        resourceType: 'credential',
        resourceName: `Vault ${RUN}`,
        ...actorOf(org),
      },
    ]);
    await sealAll(service.ctx, org.orgId);
    const { context, page } = await signedInPage(browser, org.owner.key);
    await page.goto(`${base}${PAGE_PATH}?q=${RUN}`);
    await waitForRowCount(page, 1);
    await page.click(`#rows tr.entry[data-id="${id}"]`);
    await page.waitForFunction(() => document.querySelector('.integrity .pill')?.textContent === 'Sealed');
    const text = await page.locator('.integrity').textContent();
    expect(text).to.match(/Sealed in seal #\d+/);
    expect(text).to.contain('entry, inclusion proof and signature checked in your browser');

    // The same check refuses a copy that differs from the sealed one, and a checkpoint whose signature fails.
    const read = async (path: string) =>
      (
        await fetch(`${base}/api/v1/audit-logs${path}`, {
          headers: { authorization: `Bearer ${org.owner.key}` },
        })
      ).json();
    const [proof, entry, key] = await Promise.all([
      read(`/${id}/proof`),
      read(`/${id}`),
      read('/integrity/public-key'),
    ]);
    const cases = [
      [[entry], proof],
      [[{ ...entry, resourceName: 'Vault' }], proof],
      // The org tree's note with one signature character changed.
      [
        [entry],
        {
          ...proof,
          checkpoint: proof.checkpoint.replace(
            /(— \S+ \S{10})(.)/u,
            (_: string, a: string, c: string) => a + (c === 'A' ? 'B' : 'A'),
          ),
        },
      ],
    ];
    const results = await page.evaluate(
      async ([module, cases, key]) => {
        const { checkSealed } = await import(module);
        const out = [];
        for (const [entries, proof] of cases) out.push((await checkSealed(entries, proof, key)).state);
        return out;
      },
      [`${PAGE_PATH}/assets/proof.js`, cases, key] as const,
    );
    expect(results).to.deep.equal(['verified', 'mismatch', 'mismatch']);
    await context.close();
  });

  it('says "not checked", never green, in a browser without Ed25519 in WebCrypto', async () => {
    const id = `${RUN}_noed`;
    await ingest(service.ctx, org.orgId, [
      { id, action: 'workflow.created', resourceType: 'workflow', resourceName: `Plain ${RUN}` },
    ]);
    await sealAll(service.ctx, org.orgId);
    const { context, page } = await signedInPage(browser, org.owner.key);
    await page.addInitScript(() => {
      const importKey = crypto.subtle.importKey.bind(crypto.subtle);
      crypto.subtle.importKey = (format: never, data: never, alg: never, ...rest: never[]) =>
        JSON.stringify(alg).includes('Ed25519')
          ? Promise.reject(new DOMException('Unrecognized name.', 'NotSupportedError'))
          : importKey(format, data, alg, ...(rest as [never, never]));
    });
    await page.goto(`${base}${PAGE_PATH}?q=${RUN}`);
    await page.click(`#rows tr.entry[data-id="${id}"]`);
    await page.waitForFunction(() => !/Checking/.test(document.querySelector('.integrity')!.textContent!));
    const text = (await page.locator('.integrity').textContent())!;
    expect(text).to.not.contain('checked in your browser');
    expect(text).to.contain('this browser cannot check Ed25519 signatures');
    expect(await page.locator('.integrity .pill').textContent()).to.equal('Not checked');
    await context.close();
  });

  it('says an event changed in OpenSearch after sealing does not match its seal, and never "checked"', async () => {
    // A day of its own, so the attacker's rewrite of its index touches nothing else.
    const day = uniqueDay();
    const id = `${RUN}_tampered`;
    await ingest(service.ctx, org.orgId, [
      {
        id,
        action: 'member.role_changed',
        resourceType: 'member',
        description: 'Granted admin to Mallory',
        ...actorOf(org),
        createdAt: `${day}T12:00:00.000Z`,
      },
    ]);
    await sealAll(service.ctx, org.orgId);
    // What someone with database access does: change the stored description behind the service's back.
    await rewriteDayIndex(service.store, dayIndex(day), [org.orgId], (docs) =>
      docs.map((d) => (d.id === id ? { ...d, description: 'Granted viewer to Mallory' } : d)),
    );
    const { context, page } = await signedInPage(browser, org.owner.key);
    await page.goto(`${base}${PAGE_PATH}?range=custom&from=${day}T00:00:00.000Z&to=${day}T23:59:59.999Z`);
    await waitForRowCount(page, 1);
    expect(await page.locator('#rows .col-desc').textContent()).to.equal('Granted viewer to Mallory');
    await page.click(`#rows tr.entry[data-id="${id}"]`);
    await page.waitForFunction(() => !/Checking/.test(document.querySelector('.integrity')!.textContent!));
    const text = (await page.locator('.integrity').textContent())!;
    expect(text).to.not.contain('checked in your browser');
    expect(text).to.contain('does not match its seal');
    expect(await page.locator('.integrity .pill').getAttribute('class')).to.contain('pill-bad');
    await context.close();
  });

  it('exports the current filter as CSV and NDJSON, with the same rows as the view', async () => {
    const { context, page } = await signedInPage(browser, org.owner.key);
    await page.goto(`${base}${PAGE_PATH}?${YEAR_VIEW}`);
    await waitForRowCount(page, 50);
    const expected = await apiAll(`startDate=${YEAR}-01-01&endDate=${YEAR}-12-31`);

    await page.click('#export-button');
    const [ndjson] = await Promise.all([page.waitForEvent('download'), page.click('[data-format="ndjson"]')]);
    expect(ndjson.suggestedFilename()).to.match(/\.ndjson$/);
    const lines = fs
      .readFileSync((await ndjson.path())!, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    // Every matching entry, not only the 50 on screen, in the order of the view.
    expect(lines).to.deep.equal(expected);

    await page.click('#export-button');
    const [csv] = await Promise.all([page.waitForEvent('download'), page.click('[data-format="csv"]')]);
    const rows = parseCsv(fs.readFileSync((await csv.path())!, 'utf8'));
    expect(rows[0]).to.deep.equal([...PUBLIC_FIELDS]);
    expect(rows.slice(1).map((r) => r[0])).to.deep.equal(expected.map((e) => e.id));
    const hostile = rows.find((r) => r[0] === HOSTILE)!;
    // The formula guard, and quotes/commas/newlines surviving the round trip.
    expect(hostile[PUBLIC_FIELDS.indexOf('description')]).to.equal(
      `'${expected.find((e) => e.id === HOSTILE)!.description}`,
    );
    await context.close();
  });

  it('explains a forbidden key and a wrong key on the sign-in form', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${base}${PAGE_PATH}`);
    await page.waitForSelector('#sign-in-form');
    await screenshot(page, 'sign-in-1280');
    await page.fill('#api-key', org.memberKey);
    await page.click('#sign-in-form button[type=submit]');
    const error = page.locator('#sign-in-error');
    await error.waitFor();
    const text = (await error.textContent())!;
    expect(text).to.contain('This key cannot read audit logs');
    expect(text).to.contain('needs owner or admin'); // the API's own explanation
    expect(text).to.not.contain('{');
    expect(await page.evaluate(() => sessionStorage.getItem('audit-logs.apiKey'))).to.equal(null);
    await screenshot(page, 'forbidden-1280');

    await page.fill('#api-key', `alk_${'0'.repeat(16)}_${'A'.repeat(43)}`);
    await page.click('#sign-in-form button[type=submit]');
    await page.waitForFunction(() =>
      document.getElementById('sign-in-error')!.textContent!.includes('not accepted'),
    );

    await page.fill('#api-key', org.owner.key);
    await page.click('#sign-in-form button[type=submit]');
    await page.waitForSelector('#rows tr.entry');
    expect(await page.isHidden('#sign-in')).to.equal(true);
    await context.close();
  });

  it('is usable at 390 px wide (screenshots of both widths)', async () => {
    for (const width of [1280, 390]) {
      const { context, page } = await signedInPage(browser, org.owner.key, { width, height: 844 });
      await page.goto(`${base}${PAGE_PATH}?${YEAR_VIEW}`);
      await waitForRowCount(page, 50);
      await page.waitForFunction(() => document.querySelectorAll('#histogram .hist-bar').length > 0);
      // Nothing forces a horizontal scroll.
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).to.be.at.most(width);
      await page.click(`#rows tr.entry[data-id="${HOSTILE}"]`);
      await page.waitForSelector('#rows tr.detail-row');
      await screenshot(page, `page-${width}`);
      await context.close();
    }
  });

  it('at 390 px: long event types readable in a tooltip, the search hint whole, no "peak" without events', async () => {
    // Its own year, so the other tests' counts of the 2003 view stay as they are.
    const longAction = `workflow.${'reconfigured_'.repeat(8)}everything`;
    const longId = `${RUN}_long`;
    await ingest(service.ctx, org.orgId, [
      {
        id: longId,
        action: longAction,
        resourceType: 'workflow',
        createdAt: `${YEAR + 1}-03-01T10:00:00.000Z`,
      },
    ]);
    const view = `range=custom&from=${YEAR + 1}-01-01T00:00:00.000Z&to=${YEAR + 1}-12-31T23:59:59.999Z`;
    const { context, page } = await signedInPage(browser, org.owner.key, { width: 390, height: 844 });
    await page.goto(`${base}${PAGE_PATH}?${view}`);
    await page.waitForSelector(`#rows tr.entry[data-id="${longId}"]`);
    const badge = page.locator(`#rows tr.entry[data-id="${longId}"] .badge`);
    const cut = await badge.evaluate((b) => b.scrollWidth > b.clientWidth);
    expect(cut, 'the badge is narrower than the type at this width').to.equal(true);
    expect(await badge.getAttribute('title')).to.equal(longAction);

    // The placeholder fits the search box (its text width within the box's content width).
    const spare = await page.evaluate(() => {
      const input = document.getElementById('search') as HTMLInputElement;
      const cs = getComputedStyle(input);
      const g = document.createElement('canvas').getContext('2d')!;
      g.font = `${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
      const room = input.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
      return room - g.measureText(input.placeholder).width;
    });
    // Room is left for the search field's clear button too.
    expect(spare).to.be.greaterThan(20);

    await page.fill('#search', 'no-such-word-anywhere');
    await page.waitForSelector('.state-empty');
    await page.waitForFunction(() =>
      /no events/.test(document.querySelector('#histogram figcaption')?.textContent ?? ''),
    );
    expect(await page.locator('#histogram figcaption').textContent()).not.to.contain('peak');
    await context.close();
  });

  it('shows whole event types and emails at 1280 px, and ids unbroken at 390 px', async () => {
    // Its own year, so the other tests' counts of the 2003 view stay as they are.
    const view = `range=custom&from=${YEAR + 2}-01-01T00:00:00.000Z&to=${YEAR + 2}-12-31T23:59:59.999Z`;
    const email = 'mary-jane@acme-robotics.example';
    const resourceId = 'res_pipeline_nightly_etl_0042';
    await ingest(service.ctx, org.orgId, [
      {
        action: 'subscription.enterprise_provisioned',
        resourceType: 'subscription',
        resourceId,
        description: 'Short',
        actorId: org.owner.id,
        actorName: 'Mary Jane',
        actorEmail: email,
        workspaceId: org.workspaceId,
        createdAt: `${YEAR + 2}-04-01T10:00:00.000Z`,
      },
      {
        action: 'permission_group_member.removed',
        resourceType: 'permission_group_member',
        description: 'Short too',
        createdAt: `${YEAR + 2}-04-02T10:00:00.000Z`,
      },
    ]);
    /** How many lines an element's text takes. */
    const lines = (el: Element) => {
      const range = document.createRange();
      range.selectNodeContents(el);
      return new Set(Array.from(range.getClientRects(), (r) => Math.round(r.top))).size;
    };

    const wide = await signedInPage(browser, org.owner.key, { width: 1280, height: 900 });
    await wide.page.goto(`${base}${PAGE_PATH}?${view}`);
    await waitForRowCount(wide.page, 2);
    // The description has room, so no catalogue type is cut, and an email is never wrapped at its hyphens.
    const cut = Object.fromEntries(
      await wide.page.$$eval('#rows .badge', (b) =>
        b.map((x) => [x.textContent, x.scrollWidth > x.clientWidth]),
      ),
    );
    const actor = wide.page.locator('#rows .actor', { hasText: email });
    const emailLines = await actor.evaluate(lines);
    const emailCut = await actor.evaluate((a) => a.scrollWidth > a.clientWidth);
    await wide.context.close();

    const narrow = await signedInPage(browser, org.owner.key, { width: 390, height: 844 });
    await narrow.page.goto(`${base}${PAGE_PATH}?${view}`);
    await waitForRowCount(narrow.page, 2);
    const row = narrow.page.locator('#rows tr.entry', { hasText: 'subscription.enterprise_provisioned' });
    const id = (await row.getAttribute('data-id'))!;
    await row.click();
    const detail = narrow.page.locator('#rows tr.detail-row');
    await detail.waitFor();
    const detailLines: Record<string, number> = {};
    for (const value of [id, resourceId, org.workspaceId, email])
      detailLines[value] = await detail.locator('dd', { hasText: value }).evaluate(lines);
    expect({ cut, emailLines, emailCut, detailLines }).to.deep.equal({
      cut: { 'subscription.enterprise_provisioned': false, 'permission_group_member.removed': false },
      emailLines: 1,
      emailCut: false,
      detailLines: { [id]: 1, [resourceId]: 1, [org.workspaceId]: 1, [email]: 1 },
    });
    expect(await narrow.page.evaluate(() => document.documentElement.scrollWidth)).to.be.at.most(390);
    await screenshot(narrow.page, 'page-390-ids');
    await narrow.context.close();
  });

  it('"Custom range…" after Back offers the dates of the window on screen, not a range left behind', async () => {
    const { context, page } = await signedInPage(browser, org.owner.key);
    await page.goto(`${base}${PAGE_PATH}`);
    await page.waitForSelector('#rows tr.entry');
    await page.selectOption('#range', 'custom');
    await page.fill('#from', `${YEAR}-01-01T00:00`);
    await page.fill('#to', `${YEAR}-12-31T23:59`);
    await page.click('#apply-range');
    await page.waitForFunction(() => new URL(location.href).searchParams.get('range') === 'custom');
    await idle(page);
    await page.goBack();
    await page.waitForFunction(() => (document.getElementById('range') as HTMLSelectElement).value === '30d');
    await idle(page);
    await page.selectOption('#range', 'custom');
    const offered = await page.evaluate(() => ({
      from: new Date((document.getElementById('from') as HTMLInputElement).value).getTime(),
      to: new Date((document.getElementById('to') as HTMLInputElement).value).getTime(),
      now: Date.now(),
    }));
    // Inputs hold minutes: "now" and 30 days before it, within a few minutes.
    expect(Math.abs(offered.to - offered.now)).to.be.below(5 * 60_000);
    expect(Math.abs(offered.to - offered.from - 30 * 86_400_000)).to.be.below(5 * 60_000);
    await context.close();
  });

  it('shows a clear "not enabled" page when NEXT_PUBLIC_AUDIT_LOGS_ENABLED is off', async () => {
    const off = await startPageService({ NEXT_PUBLIC_AUDIT_LOGS_ENABLED: 'false' });
    try {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      const res = await page.goto(`${off.url}/`);
      expect(res!.status()).to.equal(404);
      const body = (await page.textContent('main'))!;
      expect(body).to.contain('Audit logs are not enabled');
      expect(body).to.contain('NEXT_PUBLIC_AUDIT_LOGS_ENABLED=true');
      expect(body).to.contain('AUDIT_LOGS_ENABLED=true');
      await screenshot(page, 'not-enabled-1280');
      await context.close();
    } finally {
      await off.close();
    }
  });

  it('keeps another org out: a key only ever shows its own org', async () => {
    const other = await createPageOrg(service.ctx);
    await ingest(service.ctx, other.orgId, [
      {
        id: uniqueId('evt'),
        action: 'workflow.created',
        resourceType: 'workflow',
        resourceName: 'Zephyrine Twin',
        createdAt: `${YEAR}-06-01T11:00:00.000Z`,
      },
    ]);
    const { context, page } = await signedInPage(browser, org.owner.key);
    await page.goto(`${base}${PAGE_PATH}?${YEAR_VIEW}&q=zephyrine`);
    await waitForRowCount(page, 1);
    await idle(page);
    expect(await rowIds(page)).to.deep.equal([ZEPHYRINE]);
    await context.close();
  });
});
