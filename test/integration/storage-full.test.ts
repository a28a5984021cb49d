import { expect } from 'chai';
import type { AppContext } from '../../src/context.ts';
import { ledgerEntryOf } from '../../src/integrity/ledger.ts';
import { verifyOrg } from '../../src/integrity/verify.ts';
import { checkEvent, type Accepted } from '../../src/ingest/validate.ts';
import type { RunningService } from '../../src/server.ts';
import { writeDocs } from '../../src/store/bulk-writes.ts';
import { claimEntry } from '../../src/store/ledger-store.ts';
import { dayIndex, eventDocId, INTERNAL } from '../../src/store/names.ts';
import { seedIngestKey, seedOrg, startTestService, testConfig, uniqueId } from '../helpers.ts';
import { ledgerEntry, postEvents } from '../fixtures/ingest.ts';
import { sealAll, testKey, testSealer, uniqueDay } from '../fixtures/integrity.ts';
import { OLD_DAYS_WRITABLE } from '../fixtures/read.ts';

const LATE_GRACE_MS = 10 * 60_000;

/**
 * What OpenSearch does at the flood-stage disk watermark, done for real: the `read_only_allow_delete` block on
 * an index (set and lifted with the settings API, as the engine does itself). Writes to it fail with 429.
 */
describe('a full disk (flood-stage read_only_allow_delete) is transient, never a rejection', function () {
  this.timeout(180_000);
  let service: RunningService;
  let ctx: AppContext;
  let orgId: string;
  let key: string;

  const block = (index: string, on: boolean) =>
    service.store.indices.putSettings({
      index,
      body: { 'index.blocks.read_only_allow_delete': on ? true : null },
    });
  const event = (day: string, id: string, n = 0) => ({
    id,
    action: 'workflow.created',
    resourceType: 'workflow',
    resourceName: `Flow ${n}`,
    createdAt: `${day}T10:00:0${n % 10}.000Z`,
  });
  const health = async () => (await fetch(`${service.url}/healthz`)).json();
  /** The state a first attempt leaves when it stops between its two writes: the ledger claim, no event. */
  const claimOnly = async (org: string, input: object) => {
    const checked = checkEvent(input, {
      boundOrgId: org,
      now: new Date(),
      sealAfterDays: ctx.cfg.sealAfterDays,
    }) as Accepted;
    expect(checked.ok).to.equal(true);
    await writeDocs(service.store, [claimEntry(ledgerEntryOf(checked.doc, checked.index))], Infinity);
  };
  const storedEvent = async (index: string, id: string) =>
    (await service.store.get({ index, id: eventDocId(orgId, id) }, { ignore: [404] })).body.found;

  before(async () => {
    service = await startTestService({ ...OLD_DAYS_WRITABLE, AUDIT_SEALING: 'true' });
    ctx = { cfg: testConfig(OLD_DAYS_WRITABLE), store: service.store };
    orgId = await seedOrg(ctx);
    key = await seedIngestKey(ctx, orgId);
  });
  after(() => service?.close());

  it('answers 503 storage_full with Retry-After, keeps no claim, says degraded; the retry after is created and sealed', async () => {
    const day = uniqueDay();
    const index = dayIndex(day);
    expect((await postEvents(service.url, key, event(day, uniqueId('first')))).status).to.equal(201);
    const batch = [1, 2, 3].map((n) => event(day, uniqueId(`full${n}`), n));
    await block(index, true);
    try {
      const res = await postEvents(service.url, key, { events: batch });
      expect(res.status, JSON.stringify(res.body)).to.equal(503);
      expect(res.body.code).to.equal('storage_full');
      expect(res.headers.get('retry-after')).to.match(/^[1-9]\d*$/);
      for (const { id } of batch) {
        expect(await ledgerEntry(service.store, orgId, id), id).to.equal(undefined);
        expect(await storedEvent(index, id), id).to.equal(false);
      }
      const degraded = await health();
      expect(degraded.status).to.equal('degraded');
      expect(degraded.problems[0].code).to.equal('storage_full');
      expect(degraded.problems[0].indices).to.include(index);
    } finally {
      await block(index, false);
    }
    expect((await health()).status).to.equal('ok');

    const retry = await postEvents(service.url, key, { events: batch });
    expect(retry.status, JSON.stringify(retry.body)).to.equal(201);
    expect(retry.body.results.map((r: { status: string }) => r.status)).to.deep.equal([
      'created',
      'created',
      'created',
    ]);
    await sealAll(ctx, orgId);
    const report = await verifyOrg(service.store, { orgId, publicKey: testKey, lateGraceMs: LATE_GRACE_MS });
    expect(report.problems).to.deep.equal([]);
    expect(report.events.sealedChecked).to.be.at.least(4);
  });

  it('answers 503 storage_full when the ledger itself is out of disk space, and stores nothing', async () => {
    const day = uniqueDay();
    const id = uniqueId('ledgerfull');
    await block(INTERNAL.ledger, true);
    try {
      const res = await postEvents(service.url, key, event(day, id));
      expect(res.status, JSON.stringify(res.body)).to.equal(503);
      expect(res.body.code).to.equal('storage_full');
      expect(res.headers.get('retry-after')).to.match(/^[1-9]\d*$/);
      expect((await health()).problems[0].indices).to.include(INTERNAL.ledger);
    } finally {
      await block(INTERNAL.ledger, false);
    }
    expect(await ledgerEntry(service.store, orgId, id)).to.equal(undefined);
    const retry = await postEvents(service.url, key, event(day, id));
    expect(retry.status, JSON.stringify(retry.body)).to.equal(201);
  });

  it('finishes the claim an interrupted attempt left: 503 while the disk is full, created and sealed after', async () => {
    const day = uniqueDay();
    const index = dayIndex(day);
    expect((await postEvents(service.url, key, event(day, uniqueId('first')))).status).to.equal(201);
    const batch = [1, 2].map((n) => event(day, uniqueId(`left${n}`), n));
    for (const e of batch) await claimOnly(orgId, e);
    await block(index, true);
    try {
      const res = await postEvents(service.url, key, { events: batch });
      expect(res.status, JSON.stringify(res.body)).to.equal(503);
      expect(res.body.code).to.equal('storage_full');
    } finally {
      await block(index, false);
    }
    const retry = await postEvents(service.url, key, { events: batch });
    expect(retry.status, JSON.stringify(retry.body)).to.equal(201);
    for (const { id } of batch) expect(await storedEvent(index, id), id).to.equal(true);
    await sealAll(ctx, orgId);
    const report = await verifyOrg(service.store, { orgId, publicKey: testKey, lateGraceMs: LATE_GRACE_MS });
    expect(report.problems).to.deep.equal([]);
    expect(report.events.pending).to.equal(0);
  });

  it('verify reports a claim held unsealed past the late grace, its event missing, instead of calling it pending', async () => {
    const org = await seedOrg(ctx);
    const day = uniqueDay();
    const orgKey = await seedIngestKey(ctx, org);
    expect((await postEvents(service.url, orgKey, event(day, uniqueId('sealed')))).status).to.equal(201);
    await sealAll(ctx, org);
    const orphan = uniqueId('orphan');
    await claimOnly(org, event(day, orphan));
    // The sealer passes it without its event and marks it waiting, as it does after the missing-event grace.
    await testSealer(ctx, { missingEventGraceMs: 0 }).sealOrg(org);

    const now = await verifyOrg(service.store, {
      orgId: org,
      publicKey: testKey,
      lateGraceMs: LATE_GRACE_MS,
    });
    expect(now.problems).to.deep.equal([]);
    expect(now.events.pending).to.equal(1);

    const later = await verifyOrg(service.store, {
      orgId: org,
      publicKey: testKey,
      lateGraceMs: LATE_GRACE_MS,
      now: new Date(Date.now() + LATE_GRACE_MS + 60_000),
    });
    expect(later.clean).to.equal(false);
    expect(later.events.pending).to.equal(0);
    expect(later.problems.map((p) => [p.kind, p.eventId])).to.deep.equal([['unsealed-held', orphan]]);
    expect(later.problems[0]!.message).to.include(dayIndex(day));
  });
});
