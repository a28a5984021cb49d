/**
 * The admin page's Streams view in Chromium, at 1280 and 390 px: an owner adds a webhook stream through the
 * form, sends a test event the receiver verifies, sees events delivered and the lag, pauses and resumes it,
 * edits it without re-typing its secret, trusts a private CA pasted into the form, and sees a failing stream's
 * last error. A member is told why not.
 */
import crypto from 'node:crypto';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { PAGE_PATH } from '../../src/ui/ui-routes.ts';
import { selfSignedFor127 } from '../fixtures/tls-cert.ts';
import { WebhookReceiver } from '../fixtures/webhook-receiver.ts';
import {
  createPageOrg,
  ingest,
  launchBrowser,
  screenshot,
  signedInPage,
  startPageService,
  type PageOrg,
  type PageService,
} from '../fixtures/page.ts';

const VIEWPORTS = [
  { width: 1280, height: 900 },
  { width: 390, height: 844 },
];

const rowOf = (page: Page, name: string) => page.locator('#stream-rows tr', { hasText: name });

describe('admin page: Streams view (browser)', function () {
  this.timeout(180_000);
  let service: PageService;
  let browser: Browser;
  let org: PageOrg;
  let receiver: WebhookReceiver;
  const secret = `whsec_${crypto.randomBytes(24).toString('base64')}`;

  before(async () => {
    service = await startPageService({
      AUDIT_STREAM_ALLOW_PRIVATE: 'true',
      AUDIT_STREAM_POLL_SECONDS: '0.2',
    });
    org = await createPageOrg(service.ctx);
    receiver = await new WebhookReceiver(secret).start();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await receiver?.stop();
    await service?.close();
  });

  for (const viewport of VIEWPORTS) {
    it(`adds, tests, pauses, resumes and edits a webhook stream at ${viewport.width} px`, async () => {
      const name = `SIEM ${viewport.width}`;
      const { context, page } = await signedInPage(browser, org.owner.key, viewport);
      try {
        await page.goto(`${service.url}${PAGE_PATH}`);
        await page.click('#streams-button');
        await page.waitForSelector('#streams:not([hidden])');
        await page.click('#add-stream');
        await page.selectOption('#stream-type', 'webhook');
        await page.fill('#stream-name', name);
        await page.fill('#stream-field-url', receiver.url);
        await page.fill('#stream-field-secret', secret);
        await page.fill('#stream-actions', 'workflow.*');
        await page.click('#stream-save');
        await page.waitForSelector(`#streams-notice:has-text("Created “${name}”")`);
        await expect(await rowOf(page, name).locator('.pill').textContent()).to.equal('active');

        // The receiver verifies the test event's signature; the page shows its reply.
        const before = receiver.batches.length;
        await rowOf(page, name).getByRole('button', { name: 'Send test event' }).click();
        await page.waitForSelector('#streams-notice:has-text("Test event delivered")');
        expect(receiver.batches.length).to.be.greaterThan(before);
        expect(receiver.rejected).to.deep.equal([]);

        // Events of the filter arrive; the row says how many and that it is caught up.
        const ids = [crypto.randomUUID(), crypto.randomUUID()].map((u) => `evt_${u.replace(/-/g, '')}`);
        await ingest(
          service.ctx,
          org.orgId,
          ids.map((id) => ({ id, action: 'workflow.deployed', resourceType: 'workflow' })),
        );
        for (let i = 0; i < 150 && !ids.every((id) => receiver.ids().includes(id)); i++)
          await new Promise((r) => setTimeout(r, 200));
        expect(receiver.ids()).to.include.members(ids);
        await page.click('#streams-back');
        await page.click('#streams-button');
        await page.waitForFunction(
          (n) =>
            Array.from(document.querySelectorAll('#stream-rows tr')).some(
              (tr) => tr.textContent!.includes(n) && /[1-9]\d* delivered · caught up/.test(tr.textContent!),
            ),
          name,
        );

        await rowOf(page, name).getByRole('button', { name: 'Pause' }).click();
        await page.waitForFunction(
          (n) =>
            Array.from(document.querySelectorAll('#stream-rows tr')).some(
              (tr) => tr.textContent!.includes(n) && tr.querySelector('.pill')?.textContent === 'paused',
            ),
          name,
        );
        await rowOf(page, name).getByRole('button', { name: 'Resume' }).click();
        await page.waitForFunction(
          (n) =>
            Array.from(document.querySelectorAll('#stream-rows tr')).some(
              (tr) => tr.textContent!.includes(n) && tr.querySelector('.pill')?.textContent === 'active',
            ),
          name,
        );

        // Editing keeps the secret unless a new one is typed: the placeholder names only its last characters.
        await rowOf(page, name).getByRole('button', { name: 'Edit' }).click();
        const placeholder = await page.getAttribute('#stream-field-secret', 'placeholder');
        expect(placeholder).to.match(/^unchanged \(/);
        expect(placeholder).not.to.contain(secret.slice(6, 20));
        expect(await page.inputValue('#stream-field-secret')).to.equal('');
        await page.fill('#stream-name', `${name} (renamed)`);
        await page.click('#stream-save');
        await page.waitForSelector(`#streams-notice:has-text("Saved “${name} (renamed)”")`);
        const n = receiver.batches.length;
        await rowOf(page, `${name} (renamed)`).getByRole('button', { name: 'Send test event' }).click();
        await page.waitForSelector('#streams-notice:has-text("Test event delivered")');
        expect(receiver.batches.length).to.be.greaterThan(n); // still signed with the same secret
        expect(receiver.rejected).to.deep.equal([]);

        // Nothing runs off the side of the screen.
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        expect(overflow).to.be.at.most(0);
        await screenshot(page, `streams-${viewport.width}`);
      } finally {
        await context.close();
      }
    });
  }

  it('shows a failing stream with the cause as its last error', async () => {
    const { context, page } = await signedInPage(browser, org.owner.key);
    try {
      receiver.reply = () => ({ status: 401, body: 'who are you' });
      await page.goto(`${service.url}${PAGE_PATH}#streams`);
      await page.waitForSelector('#streams:not([hidden])');
      await page.click('#add-stream');
      await page.fill('#stream-name', 'Refused');
      await page.fill('#stream-field-url', receiver.url);
      await page.fill('#stream-field-secret', secret);
      await page.click('#stream-save');
      await page.waitForSelector('#streams-notice:has-text("Created “Refused”")');
      await ingest(service.ctx, org.orgId, [{ action: 'workflow.deployed', resourceType: 'workflow' }]);
      for (let i = 0; i < 100; i++) {
        await page.click('#streams-back');
        await page.click('#streams-button');
        if ((await rowOf(page, 'Refused').locator('.pill').textContent()) === 'failing') break;
        await new Promise((r) => setTimeout(r, 300));
      }
      expect(await rowOf(page, 'Refused').locator('.pill').textContent()).to.equal('failing');
      expect(await rowOf(page, 'Refused').locator('.stream-error').textContent()).to.contain('401');
    } finally {
      receiver.reply = undefined;
      await context.close();
    }
  });

  it('trusts a receiver with a private CA once its certificate is pasted into the form', async () => {
    const tls = selfSignedFor127();
    const private_ = await new WebhookReceiver(secret, tls).start();
    const { context, page } = await signedInPage(browser, org.owner.key);
    try {
      await page.goto(`${service.url}${PAGE_PATH}#streams`);
      await page.waitForSelector('#streams:not([hidden])');
      await page.click('#add-stream');
      await page.fill('#stream-name', 'Private CA');
      await page.fill('#stream-field-url', private_.url);
      await page.fill('#stream-field-secret', secret);
      await page.click('#stream-save');
      await page.waitForSelector('#streams-notice:has-text("Created “Private CA”")');
      await rowOf(page, 'Private CA').getByRole('button', { name: 'Send test event' }).click();
      await page.waitForSelector('#streams-notice:has-text("The test event to “Private CA” failed")');
      expect(private_.batches).to.deep.equal([]);

      await rowOf(page, 'Private CA').getByRole('button', { name: 'Edit' }).click();
      await page.fill('#stream-field-ca', tls.cert);
      await page.click('#stream-save');
      await page.waitForSelector('#streams-notice:has-text("Saved “Private CA”")');
      await rowOf(page, 'Private CA').getByRole('button', { name: 'Send test event' }).click();
      await page.waitForSelector('#streams-notice:has-text("Test event delivered to “Private CA”")');
      // The test event arrived (the org's own entries may follow it: the stream now delivers too).
      expect(private_.ids().filter((id) => id.startsWith('test_'))).to.have.lengthOf(1);
      expect(private_.rejected).to.deep.equal([]);
    } finally {
      await context.close();
      await private_.stop();
    }
  });

  it('tells a member that only owners and admins manage streams', async () => {
    const { context, page } = await signedInPage(browser, org.memberKey);
    try {
      await page.goto(`${service.url}${PAGE_PATH}#streams`);
      await page.waitForSelector('#streams-notice:not([hidden])');
      expect(await page.textContent('#streams-notice')).to.contain('Only organization owners and admins');
    } finally {
      await context.close();
    }
  });
});
