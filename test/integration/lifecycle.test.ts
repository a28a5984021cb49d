/**
 * The name-based lifecycle sweep on real indices. Days of 1990 are this file's own (no other test writes
 * there); "now" is 1990-06-30, with seal after 2 days and retention of 30 days.
 */
import { expect } from 'chai';
import type { AppContext } from '../../src/context.ts';
import { sweepLifecycle } from '../../src/lifecycle/sweep.ts';
import type { RunningService } from '../../src/server.ts';
import { eventDocId, INTERNAL } from '../../src/store/names.ts';
import { seedIngestKey, seedOrg, startTestService, testConfig, uniqueId } from '../helpers.ts';
import { ledgerEntry, postEvents } from '../fixtures/ingest.ts';

const PATTERN = 'audit-logs-1990.*';
const NOW = new Date('1990-06-30T12:00:00Z');
const RULES = { sealAfterDays: 2, retentionDays: 30 };
const DAYS = ['1990-01-15', '1990-05-31', '1990-06-01', '1990-06-28', '1990-06-29', '1990-06-30'];
/** The service itself must accept 1990 events (decades old), so its own seal age is set far out. */
const OLD_DAYS_WRITABLE = { AUDIT_SEAL_AFTER_DAYS: '36499', AUDIT_RETENTION_DAYS: '36500' };
const index = (day: string) => `audit-logs-${day.replaceAll('-', '.')}`;

describe('lifecycle: the name-based sweep', () => {
  let service: RunningService;
  let ctx: AppContext;
  let orgId: string;
  let key: string;

  async function dropOwnIndices() {
    const res = await service.store.cat.indices({ index: PATTERN, format: 'json', h: 'index' } as never);
    const names = ((res.body ?? []) as unknown as { index: string }[]).map((r) => r.index);
    // destructive_requires_name: indices are deleted by their names, never by a wildcard.
    if (names.length > 0) await service.store.indices.delete({ index: names.join(',') });
  }

  const exists = async (day: string) => (await service.store.indices.exists({ index: index(day) })).body;
  const blocked = async (day: string) => {
    const res = await service.store.indices.getSettings({ index: index(day), name: 'index.blocks.write' });
    return (res.body as Record<string, { settings: { index?: { blocks?: { write?: string } } } }>)[index(day)]
      ?.settings.index?.blocks?.write; // an index without the setting is left out of the answer
  };
  const httpCreate = (day: string) =>
    service.store
      .create({
        index: index(day),
        id: uniqueId('evt'),
        body: { id: 'x', orgId, action: 'a.b', resourceType: 'r', createdAt: `${day}T10:00:00.000Z` },
      })
      .then(
        (r) => ({ status: r.statusCode, type: undefined as string | undefined }),
        (err) => ({ status: err.meta.statusCode as number, type: err.meta.body?.error?.type as string }),
      );

  before(async () => {
    service = await startTestService(OLD_DAYS_WRITABLE);
    ctx = { cfg: testConfig(OLD_DAYS_WRITABLE), store: service.store };
    await dropOwnIndices();
    orgId = await seedOrg(ctx);
    key = await seedIngestKey(ctx, orgId);
    // Each day gets its index the way production does: through the ingest path.
    const res = await postEvents(service.url, key, {
      events: DAYS.map((day) => ({
        action: 'workflow.created',
        resourceType: 'workflow',
        createdAt: `${day}T09:00:00Z`,
      })),
    });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
  });
  after(async () => {
    await dropOwnIndices();
    await service.close();
  });

  it('deletes days past retention, seals days past the seal age, leaves younger days alone', async () => {
    const report = await sweepLifecycle(service.store, RULES, { now: NOW, pattern: PATTERN });
    expect(report.checked).to.equal(DAYS.length);
    expect(report.actions).to.deep.equal([
      { index: index('1990-01-15'), ageDays: 166, action: 'deleted' },
      { index: index('1990-05-31'), ageDays: 30, action: 'deleted' },
      { index: index('1990-06-01'), ageDays: 29, action: 'sealed' },
      { index: index('1990-06-28'), ageDays: 2, action: 'sealed' },
    ]);
    expect(await exists('1990-01-15')).to.equal(false);
    expect(await exists('1990-05-31')).to.equal(false);
    expect(await blocked('1990-06-01')).to.equal('true');
    expect(await blocked('1990-06-28')).to.equal('true');
    expect(await blocked('1990-06-29')).to.equal(undefined);
    expect(await blocked('1990-06-30')).to.equal(undefined);
    const segments = (await service.store.indices.segments({ index: index('1990-06-28') })).body as {
      indices: Record<string, { shards: Record<string, { segments: object }[]> }>;
    };
    const shard = segments.indices[index('1990-06-28')]!.shards['0']![0]!;
    expect(Object.keys(shard.segments).length).to.be.at.most(1);
  });

  it('makes a sealed index refuse writes (cluster block) while today and yesterday still take them', async () => {
    const sealed = await httpCreate('1990-06-28');
    expect(sealed.status).to.equal(403);
    expect(sealed.type).to.equal('cluster_block_exception');
    expect((await httpCreate('1990-06-30')).status).to.equal(201);
    expect((await httpCreate('1990-06-29')).status).to.equal(201);
  });

  it('answers ingest into a sealed day with 400 naming createdAt, leaving no ledger entry', async () => {
    const id = uniqueId('evt');
    const res = await postEvents(service.url, key, {
      id,
      action: 'workflow.updated',
      resourceType: 'workflow',
      createdAt: '1990-06-28T11:00:00Z',
    });
    expect(res.status).to.equal(400);
    expect(res.body.param).to.equal('createdAt');
    expect(res.body.error).to.match(/sealed/);
    expect(await ledgerEntry(service.store, orgId, id)).to.equal(undefined);
  });

  it('releases the ledger entry when an unfinished earlier attempt can no longer be finished (sealed meanwhile)', async () => {
    const id = uniqueId('evt');
    const createdAt = '1990-06-28T08:00:00.000Z';
    await service.store.create({
      index: INTERNAL.ledger,
      id: eventDocId(orgId, id),
      body: {
        orgId,
        eventId: id,
        index: index('1990-06-28'),
        createdAt,
        acceptedAt: createdAt,
        sealed: false,
      },
    });
    // The retry itself carries no createdAt (today's date): the ledger sends it to the sealed 1990 index.
    const res = await postEvents(service.url, key, {
      id,
      action: 'workflow.updated',
      resourceType: 'workflow',
    });
    expect(res.status).to.equal(400);
    expect(res.body.param).to.equal('createdAt');
    expect(res.body.error).to.match(/write-blocked/);
    expect(await ledgerEntry(service.store, orgId, id)).to.equal(undefined);
  });

  it('changes nothing when run again', async () => {
    const report = await sweepLifecycle(service.store, RULES, { now: NOW, pattern: PATTERN });
    expect(report.actions).to.deep.equal([]);
    expect(report.checked).to.equal(4);
  });
});
