/**
 * The SIEM stream against the real engine and the real sealer: a polling loop that follows the cursor while
 * producers send late, out-of-order and retried events ends up with exactly the set of ingested entries,
 * each once.
 */
import { expect } from 'chai';
import crypto from 'node:crypto';
import type { AuditEntry } from '../../src/events/schema.ts';
import { PUBLIC_FIELDS } from '../../src/events/schema.ts';
import { getEntries } from '../../src/store/ledger-store.ts';
import { AUDIT_INDEX_PATTERN, INTERNAL } from '../../src/store/names.ts';
import { dayIndicesOf, type SealDoc } from '../../src/store/seal-doc.ts';
import { postEvents } from '../fixtures/ingest.ts';
import { createOrg, get, startReadService, type ReadService, type TestOrg } from '../fixtures/read.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface StreamPage {
  data: AuditEntry[];
  nextCursor: string;
  caughtUp: boolean;
}

describe('SIEM stream: GET /api/v1/audit-logs/stream', function () {
  this.timeout(120_000);
  let service: ReadService;
  let org: TestOrg;

  before(async () => {
    service = await startReadService({
      AUDIT_SEAL_INTERVAL_SECONDS: '1',
      AUDIT_RATE_LIMIT_PER_MINUTE: '100000',
    });
    org = await createOrg(service.ctx);
  });
  after(() => service.close());

  const page = async (query: string, key = org.keys.owner) => {
    const res = await get(service.url, `/api/v1/audit-logs/stream${query}`, key);
    expect(res.status, res.text).to.equal(200);
    return res.body as StreamPage;
  };

  /**
   * A SIEM's polling loop: follows nextCursor with random page sizes; when caught up, asks `stop()` and
   * otherwise polls again a little later.
   */
  async function follow(
    query: string,
    opts: {
      key?: string;
      stop: (ids: string[]) => boolean;
      deadline: number;
      onPage?: (p: StreamPage) => void;
    },
  ): Promise<{ ids: string[]; cursor: string }> {
    const ids: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const limit = 1 + crypto.randomInt(40);
      const params = new URLSearchParams(query);
      params.set('limit', String(limit));
      if (cursor) params.set('cursor', cursor);
      const p = await page(`?${params}`, opts.key);
      expect(p.nextCursor, 'every page has a cursor').to.be.a('string');
      expect(p.data.length).to.be.at.most(limit);
      opts.onPage?.(p);
      ids.push(...p.data.map((e) => e.id));
      cursor = p.nextCursor;
      if (p.caughtUp) {
        if (opts.stop(ids)) return { ids, cursor };
        if (Date.now() > opts.deadline) {
          throw new Error(`the stream did not deliver everything in time (${ids.length} entries so far)`);
        }
        await sleep(150);
      }
    }
  }

  /** Every entry of the org in the day indices (what was ingested, producers' and the directory's). */
  async function storedIds(orgId: string, filter: object[] = []): Promise<string[]> {
    await service.store.indices.refresh({ index: AUDIT_INDEX_PATTERN });
    const res = await service.store.search({
      index: AUDIT_INDEX_PATTERN,
      body: { size: 10_000, query: { bool: { filter: [{ term: { orgId } }, ...filter] } }, _source: ['id'] },
    } as never);
    return (res.body.hits.hits as { _source: { id: string } }[]).map((h) => h._source.id);
  }

  it('delivers exactly the ingested entries, once each, while producers send late, out-of-order and retried events', async () => {
    const created = new Set<string>();
    let producing = true;
    const now = Date.now();
    const producer = async (p: number) => {
      for (let b = 0; b < 8; b++) {
        const events = Array.from({ length: 1 + crypto.randomInt(25) }, (_, i) => {
          // Late by up to three days, or slightly in the past; in random order within and across batches.
          const lateMs =
            crypto.randomInt(4) === 0 ? crypto.randomInt(3 * 86_400_000) : crypto.randomInt(60_000);
          return {
            ...(crypto.randomInt(3) > 0
              ? { id: `siem_${p}_${b}_${i}_${crypto.randomBytes(3).toString('hex')}` }
              : {}),
            action: crypto.randomInt(2) ? 'workflow.updated' : 'file.uploaded',
            resourceType: 'workflow',
            workspaceId: org.ws[crypto.randomInt(2)],
            actorId: org.users.admin,
            ipAddress: '203.0.113.7',
            createdAt: new Date(now - lateMs).toISOString(),
          };
        });
        const res = await postEvents(service.url, org.keys.ingest, { events });
        expect(res.status, JSON.stringify(res.body)).to.be.oneOf([201, 207]);
        const results = res.body.results as { id: string; status: string }[];
        for (const r of results) if (r.status === 'created') created.add(r.id);
        // A producer retry of part of the batch: duplicates, never a second entry.
        const withIds = events.filter((e) => e.id);
        if (withIds.length > 0 && crypto.randomInt(2) === 0) {
          const again = await postEvents(service.url, org.keys.ingest, { events: withIds.slice(0, 3) });
          for (const r of again.body.results as { status: string }[]) expect(r.status).to.equal('duplicate');
        }
        await sleep(crypto.randomInt(300));
      }
    };
    const producers = Promise.all([0, 1, 2].map(producer)).finally(() => (producing = false));

    // The SIEM starts polling before and while the producers send.
    let expected: Set<string> | undefined;
    const consumer = follow('', {
      deadline: Date.now() + 90_000,
      onPage: (p) => {
        for (const e of p.data) expect(Object.keys(e)).to.deep.equal([...PUBLIC_FIELDS]);
      },
      stop: (ids) => expected !== undefined && new Set(ids).size >= expected.size,
    });
    await producers;
    expect(producing).to.equal(false);
    expected = new Set(await storedIds(org.orgId));
    for (const id of created) expect(expected.has(id), id).to.equal(true);

    const { ids, cursor } = await consumer;
    expect(ids.length, 'no entry delivered twice').to.equal(new Set(ids).size);
    expect(new Set(ids)).to.deep.equal(expected);

    // Nothing more: the cursor of the caught-up stream answers an empty page, with a cursor to poll again.
    const after = await page(`?cursor=${encodeURIComponent(cursor)}`);
    expect(after.data).to.deep.equal([]);
    expect(after.caughtUp).to.equal(true);
    expect(after.nextCursor).to.be.a('string');
  });

  // The tests below read the entries the first test ingested (all sealed by the time it ended).

  it('filters by action, resourceType and workspace; filtered-out entries still advance the cursor', async () => {
    const expected = new Set(
      await storedIds(org.orgId, [
        { term: { action: 'file.uploaded' } },
        { term: { workspaceId: org.ws[1] } },
      ]),
    );
    expect(expected.size).to.be.greaterThan(0);
    const { ids } = await follow(`action=file.uploaded&resourceType=workflow&workspaceId=${org.ws[1]}`, {
      deadline: Date.now() + 30_000,
      stop: () => true,
    });
    expect(ids.length).to.equal(new Set(ids).size);
    expect(new Set(ids)).to.deep.equal(expected);
  });

  it('narrows a workspace key to its workspace', async () => {
    const expected = new Set(await storedIds(org.orgId, [{ term: { workspaceId: org.ws[0] } }]));
    const { ids } = await follow('', {
      key: org.keys.workspace,
      deadline: Date.now() + 30_000,
      stop: () => true,
    });
    expect(new Set(ids)).to.deep.equal(expected);
  });

  it('reads each event in the day index its seal names, and through the ledger where a seal names none or a wrong one', async () => {
    const whole = async () => {
      const entries: AuditEntry[] = [];
      let p = await page('?limit=1000');
      for (entries.push(...p.data); !p.caughtUp; entries.push(...p.data))
        p = await page(`?limit=1000&cursor=${encodeURIComponent(p.nextCursor)}`);
      return entries;
    };
    const before = await whole();
    await service.store.indices.refresh({ index: INTERNAL.seals });
    const res = await service.store.search({
      index: INTERNAL.seals,
      body: {
        size: 1000,
        query: { term: { orgId: org.orgId } },
        sort: [{ seq: 'asc' }],
        _source: ['eventIds', 'dayRuns'],
      },
    } as never);
    const seals = (
      res.body.hits.hits as { _id: string; _source: Pick<SealDoc, 'eventIds' | 'dayRuns'> }[]
    ).map((h) => ({ id: h._id, ...h._source }));
    expect(seals.length).to.be.at.least(2);
    // Every seal says where its events are, as their ledger entries do; the late ones are in other days.
    const days = new Set<string>();
    for (const seal of seals) {
      const indices = dayIndicesOf(seal);
      const ledger = await getEntries(service.store, org.orgId, seal.eventIds, ['index']);
      expect(indices, seal.id).to.deep.equal(ledger.map((e) => e!.index));
      for (const d of indices!) days.add(d);
    }
    expect(days.size, 'events in several day indices').to.be.at.least(2);

    // A seal made before seals said (none), and seals naming a day that does not exist or holds other events.
    const last = seals.length - 1;
    const otherDay = [...days].find((d) => d !== seals[last]!.dayRuns![0]![0])!;
    const edits: [number, SealDoc['dayRuns'] | null][] = [
      [0, null],
      [1, [['audit-logs-1999.01.01', seals[1]!.eventIds.length]]],
      [last, [[otherDay, seals[last]!.eventIds.length]]],
    ];
    const edit = (k: number, dayRuns: SealDoc['dayRuns'] | null) =>
      service.store.update({
        index: INTERNAL.seals,
        id: seals[k]!.id,
        body: { doc: { dayRuns } },
        refresh: true,
      });
    try {
      for (const [k, dayRuns] of edits) await edit(k, dayRuns);
      expect(await whole()).to.deep.equal(before);
    } finally {
      for (const [k] of edits) await edit(k, seals[k]!.dayRuns!);
    }
  });

  it('binds its cursor to the scope and filters, and refuses list cursors, bad parameters and ingest keys', async () => {
    const first = await page('?action=workflow.updated&limit=2');
    const cross = await get(
      service.url,
      `/api/v1/audit-logs/stream?action=file.uploaded&cursor=${encodeURIComponent(first.nextCursor)}`,
      org.keys.owner,
    );
    expect(cross.status).to.equal(400);
    expect(cross.body.code).to.equal('invalid_cursor');
    const edited = first.nextCursor.replace(/\.(.)/, (_m, c: string) => `.${c === 'A' ? 'B' : 'A'}`);
    const forged = await get(
      service.url,
      `/api/v1/audit-logs/stream?action=workflow.updated&cursor=${encodeURIComponent(edited)}`,
      org.keys.owner,
    );
    expect(forged.status).to.equal(400);
    const list = await get(service.url, '/api/v1/audit-logs?limit=1', org.keys.owner);
    const listCursor = await get(
      service.url,
      `/api/v1/audit-logs/stream?cursor=${encodeURIComponent(list.body.nextCursor)}`,
      org.keys.owner,
    );
    expect(listCursor.status).to.equal(400);
    expect(listCursor.body.code).to.equal('invalid_cursor');

    const unknown = await get(service.url, '/api/v1/audit-logs/stream?startDate=2026-01-01', org.keys.owner);
    expect(unknown.status).to.equal(400);
    expect(unknown.body).to.include({ code: 'unknown_parameter', param: 'startDate' });
    const limit = await get(service.url, '/api/v1/audit-logs/stream?limit=1001', org.keys.owner);
    expect(limit.body).to.include({ code: 'invalid_parameter', param: 'limit' });
    const ingestKey = await get(service.url, '/api/v1/audit-logs/stream', org.keys.ingest);
    expect(ingestKey.status).to.equal(403);
    const member = await get(service.url, '/api/v1/audit-logs/stream', org.keys.member);
    expect(member.status).to.equal(403);
    const none = await get(service.url, '/api/v1/audit-logs/stream');
    expect(none.status).to.equal(401);
    const ok = await get(service.url, '/api/v1/audit-logs/stream?limit=1', org.keys.owner);
    expect(ok.headers.get('x-ratelimit-limit')).to.equal('100000');
  });

  it('answers an empty page with a cursor when caught up, and later continues from it with new entries', async () => {
    const other = await createOrg(service.ctx);
    // Follow the directory's own events of the new org (its creation, members, keys) to their end first.
    const directory = (await storedIds(other.orgId)).length;
    const { cursor } = await follow('', {
      key: other.keys.owner,
      deadline: Date.now() + 30_000,
      stop: (ids) => ids.length >= directory,
    });
    const empty = await page(`?cursor=${encodeURIComponent(cursor)}`, other.keys.owner);
    expect(empty).to.deep.include({ data: [], caughtUp: true });
    const later = `evt_later_${crypto.randomBytes(6).toString('hex')}`;
    const res = await postEvents(service.url, other.keys.ingest, {
      id: later,
      action: 'workflow.created',
      resourceType: 'workflow',
    });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    let polled: StreamPage = empty;
    const deadline = Date.now() + 30_000;
    while (polled.data.length === 0 && Date.now() < deadline) {
      await sleep(200);
      polled = await page(`?cursor=${encodeURIComponent(polled.nextCursor)}`, other.keys.owner);
    }
    expect(polled.data.map((e) => e.id)).to.deep.equal([later]);
    const past = await page(`?cursor=${encodeURIComponent(polled.nextCursor)}`, other.keys.owner);
    expect(past.data).to.deep.equal([]);
  });
});
