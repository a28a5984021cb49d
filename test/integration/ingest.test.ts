import { DAY_MS } from '../../src/days.ts';
import { expect } from 'chai';
import type { AddressInfo } from 'node:net';
import { buildApp } from '../../src/app.ts';
import type { AppContext } from '../../src/context.ts';
import { createApiKey } from '../../src/directory/api-keys.ts';
import { putMember } from '../../src/directory/members.ts';
import { PUBLIC_FIELDS, type StoredEvent } from '../../src/events/schema.ts';
import { leafOfEvent } from '../../src/integrity/event-hash.ts';
import { idHashOf, LEDGER_FRESH_MS } from '../../src/integrity/ledger.ts';
import { freePort } from '../../scripts/lib/engine/engine.ts';
import { ingestEvents } from '../../src/ingest/ingest.ts';
import type { RunningService } from '../../src/server.ts';
import { createStore, isUnavailable } from '../../src/store/client.ts';
import { dayIndex, eventDocId, INTERNAL } from '../../src/store/names.ts';
import { seedIngestKey, seedOrg, startTestService, testConfig, uniqueId } from '../helpers.ts';
import { countEvents, ledgerEntry, mappingFieldCount, postEvents, type Posted } from '../fixtures/ingest.ts';

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

describe('ingest: POST /api/v1/audit-logs', () => {
  let service: RunningService;
  let ctx: AppContext;
  let orgId: string;
  let key: string;
  const post = (body: unknown, type?: string, k: string | undefined = key) =>
    postEvents(service.url, k, body, type);
  const event = (extra: Record<string, unknown> = {}) => ({
    action: 'workflow.created',
    resourceType: 'workflow',
    resourceName: 'Customer Onboarding',
    ...extra,
  });

  before(async () => {
    service = await startTestService();
    ctx = { cfg: testConfig(), store: service.store };
    orgId = await seedOrg(ctx);
    key = await seedIngestKey(ctx, orgId);
  });
  after(() => service.close());

  /** The stored document of an event (GET is real-time: no refresh needed). */
  async function stored(id: string, createdAt: string | Date = new Date()) {
    const res = await service.store.get(
      { index: dayIndex(createdAt), id: eventDocId(orgId, id) },
      { ignore: [404] },
    );
    return res.body.found ? (res.body._source as Record<string, unknown>) : undefined;
  }

  /** A rejected single event: 400 naming `param`, and neither a ledger entry nor a document exists. */
  async function expectRejected(
    res: Posted,
    param: string,
    id: string,
    messagePart?: RegExp,
    createdAt?: string,
  ) {
    expect(res.status, JSON.stringify(res.body)).to.equal(400);
    expect(res.body.param).to.equal(param);
    expect(res.body.error).to.include(param);
    if (messagePart) expect(res.body.error).to.match(messagePart);
    expect(await ledgerEntry(service.store, orgId, id)).to.equal(undefined);
    expect(await stored(id, createdAt ?? new Date())).to.equal(undefined);
  }

  describe('happy paths', () => {
    it('stores a single event with a generated ULID, a generated description and every field', async () => {
      const res = await post(
        event({
          actorId: 'usr_1',
          actorEmail: 'ada@example.com',
          ipAddress: '203.0.113.7',
          userAgent: 'curl/8.5',
        }),
      );
      expect(res.status).to.equal(201);
      expect(res.body.results).to.have.length(1);
      const [{ id, status }] = res.body.results;
      expect(status).to.equal('created');
      expect(id).to.match(ULID);
      const doc = await stored(id);
      expect(doc).to.include({
        id,
        orgId,
        action: 'workflow.created',
        description: 'Created workflow "Customer Onboarding"',
        resourceId: null,
        actorName: null,
        workspaceId: null,
        ipAddress: '203.0.113.7',
        userAgent: 'curl/8.5',
      });
      expect(doc!.metadata).to.deep.equal({});
      for (const f of PUBLIC_FIELDS) expect(doc).to.have.property(f);
      expect(Date.now() - Date.parse(doc!.createdAt as string)).to.be.lessThan(60_000);
      expect(doc!.acceptedAt).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      const ledger = await ledgerEntry(service.store, orgId, id);
      // The leaf goes into the entry unless this instance's sealer leads (it usually does: it took the lease
      // at start, unless another test's instance still holds it); then that sealer has it in memory.
      const leaf = ledger && 'leaf' in ledger ? leafOfEvent(doc as StoredEvent) : {};
      expect(ledger).to.deep.equal({
        orgId,
        eventId: id,
        idHash: idHashOf(id),
        index: dayIndex(doc!.createdAt as string),
        createdAt: doc!.createdAt,
        acceptedAt: doc!.acceptedAt,
        ...leaf,
      });
    });

    it('keeps a producer description, its id, and normalizes createdAt to UTC milliseconds', async () => {
      const id = uniqueId('evt');
      const createdAt = new Date(Date.now() - 60_000);
      const offset = createdAt.toISOString().replace('Z', '+00:00');
      const res = await post(event({ id, description: 'Own words', createdAt: offset }));
      expect(res.status).to.equal(201);
      expect(res.body.results).to.deep.equal([{ id, status: 'created' }]);
      expect(await stored(id, createdAt)).to.include({
        description: 'Own words',
        createdAt: createdAt.toISOString(),
      });
    });

    it('takes a batch and answers in input order', async () => {
      const ids = [uniqueId('evt'), uniqueId('evt'), uniqueId('evt')];
      const res = await post({ events: ids.map((id) => event({ id })) });
      expect(res.status).to.equal(201);
      expect(res.body.results).to.deep.equal(ids.map((id) => ({ id, status: 'created' })));
      for (const id of ids) expect(await stored(id)).to.not.equal(undefined);
    });

    it('takes NDJSON, one event per line (blank lines and CRLF tolerated)', async () => {
      const ids = [uniqueId('evt'), uniqueId('evt')];
      const body = ids.map((id) => JSON.stringify(event({ id }))).join('\r\n') + '\n\n';
      const res = await post(body, 'application/x-ndjson');
      expect(res.status).to.equal(201);
      expect(res.body.results).to.deep.equal(ids.map((id) => ({ id, status: 'created' })));
      for (const id of ids) expect(await stored(id)).to.not.equal(undefined);
    });

    it('writes the good events of a batch and rejects the bad one naming its field (207)', async () => {
      const [a, b, c] = [uniqueId('evt'), uniqueId('evt'), uniqueId('evt')];
      const res = await post({
        events: [event({ id: a }), event({ id: b, actorEmail: 'not-an-email' }), event({ id: c })],
      });
      expect(res.status).to.equal(207);
      expect(res.body.results[0]).to.deep.equal({ id: a, status: 'created' });
      expect(res.body.results[1]).to.include({ id: b, status: 'rejected' });
      expect(res.body.results[1].error).to.match(/^actorEmail must be an email address/);
      expect(res.body.results[2]).to.deep.equal({ id: c, status: 'created' });
      expect(await stored(b)).to.equal(undefined);
      expect(await ledgerEntry(service.store, orgId, b)).to.equal(undefined);
    });

    it('accepts an unbound ingest key with orgId in each event, and a bound key with its own orgId', async () => {
      const unbound = await seedIngestKey(ctx);
      const id = uniqueId('evt');
      expect((await post(event({ id, orgId }), undefined, unbound)).status).to.equal(201);
      expect((await post(event({ orgId }))).status).to.equal(201);
      expect(await stored(id)).to.include({ orgId });
    });
  });

  describe('bad input: 4xx naming the field or line, nothing written', () => {
    const cases: [string, Record<string, unknown>, string, RegExp?][] = [
      ['a number for action', { action: 42 }, 'action', /must be a string/],
      ['an action that is not resource.action', { action: 'Workflow Created' }, 'action', /resource\.action/],
      ['a missing resourceType', { resourceType: undefined }, 'resourceType', /required/],
      ['metadata that is not an object', { metadata: ['a'] }, 'metadata', /JSON object/],
      ['an unknown field', { colour: 'red' }, 'colour', /not a field/],
      [
        'a date without time',
        { createdAt: '2024-05-01' },
        'createdAt',
        /ISO 8601 date-time with a time zone/,
      ],
      [
        'a date without zone',
        { createdAt: '2024-05-01T12:00:00' },
        'createdAt',
        /ISO 8601 date-time with a time zone/,
      ],
      ['a date that is not one', { createdAt: 'yesterday' }, 'createdAt', /ISO 8601/],
      [
        'a resourceName over 512 characters',
        { resourceName: 'x'.repeat(513) },
        'resourceName',
        /at most 512/,
      ],
      ['an invalid IP address', { ipAddress: '300.1.2.3' }, 'ipAddress', /IPv4 or IPv6/],
      ['an actorId with spaces', { actorId: 'ada lovelace' }, 'actorId', /1-128 characters/],
      [
        'metadata over 16 KB',
        { metadata: { blob: 'x'.repeat(16 * 1024) } },
        'metadata',
        /at most 16384 bytes/,
      ],
      ['an orgId other than the key is bound to', { orgId: 'org_other' }, 'orgId', /bound/],
      [
        'text with half an emoji (a lone surrogate)',
        { metadata: { note: ['ok', 'broken \ud83d'] } },
        'metadata',
        /metadata\.note\[1\] holds a lone UTF-16 surrogate/,
      ],
    ];
    for (const [name, extra, param, message] of cases) {
      it(`rejects ${name}`, async () => {
        const id = uniqueId('evt');
        const body: Record<string, unknown> = { ...event({ id }), ...extra };
        for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
        await expectRejected(await post(body), param, id, message);
      });
    }

    it('rejects bad ids: spaces, too long, wrong type', async () => {
      for (const bad of ['has space', 'x'.repeat(129), 'ümlaut']) {
        const res = await post(event({ id: bad }));
        expect(res.status).to.equal(400);
        expect(res.body).to.include({ param: 'id', code: 'invalid_event' });
        expect(res.body.error).to.match(/^id must be 1-128 characters/);
      }
      const res = await post(event({ id: 7 }));
      expect(res.body).to.include({ param: 'id' });
      expect(res.body.error).to.equal('id must be a string (got a number)');
    });

    it('rejects a createdAt more than 5 minutes in the future', async () => {
      const id = uniqueId('evt');
      const createdAt = new Date(Date.now() + 10 * 60_000).toISOString();
      await expectRejected(await post(event({ id, createdAt })), 'createdAt', id, /future/, createdAt);
      // Within the allowed skew it is fine.
      const ok = await post(event({ createdAt: new Date(Date.now() + 60_000).toISOString() }));
      expect(ok.status).to.equal(201);
    });

    it('rejects back-fill into a sealed day (older than AUDIT_SEAL_AFTER_DAYS) but accepts yesterday', async () => {
      const id = uniqueId('evt');
      const createdAt = new Date(Date.now() - 10 * DAY_MS).toISOString();
      await expectRejected(await post(event({ id, createdAt })), 'createdAt', id, /sealed/, createdAt);
      const yesterday = new Date(Date.now() - DAY_MS).toISOString();
      const res = await post(event({ createdAt: yesterday }));
      expect(res.status).to.equal(201);
      expect(await stored(res.body.results[0].id, yesterday)).to.include({ createdAt: yesterday });
    });

    it('rejects an org that is not in the directory, and a missing orgId for an unbound key', async () => {
      const unbound = await seedIngestKey(ctx);
      const res = await post(event({ orgId: uniqueId('org') }), undefined, unbound);
      expect(res.status).to.equal(400);
      expect(res.body.param).to.equal('orgId');
      expect(res.body.error).to.match(/not a known organization/);
      const missing = await post(event(), undefined, unbound);
      expect(missing.body).to.include({ param: 'orgId' });
      expect(missing.body.error).to.match(/orgId is required/);
    });

    it('refuses an unbound key writing into the reserved _operator org', async () => {
      const unbound = await seedIngestKey(ctx); // creates _operator, where the key's creation is recorded
      const id = uniqueId('evt');
      const res = await post(event({ id, orgId: '_operator' }), undefined, unbound);
      expect(res.status, JSON.stringify(res.body)).to.equal(400);
      expect(res.body).to.include({ code: 'invalid_event', param: 'orgId' });
      expect(res.body.error).to.match(/reserved/);
      expect(await ledgerEntry(service.store, '_operator', id)).to.equal(undefined);
      const batch = await post(
        { events: [event({ orgId: '_operator' }), event({ orgId })] },
        undefined,
        unbound,
      );
      expect(batch.body.results.map((r: { status: string }) => r.status)).to.deep.equal([
        'rejected',
        'created',
      ]);
    });

    it('refuses a createdAt finer than the millisecond it is stored with, and keeps one that is not', async () => {
      const id = uniqueId('evt');
      const day = new Date().toISOString().slice(0, 10);
      const nanos = `${day}T00:00:00.123456789Z`;
      await expectRejected(
        await post(event({ id, createdAt: nanos })),
        'createdAt',
        id,
        /millisecond/,
        nanos,
      );
      const zeros = `${day}T00:00:00.123000Z`;
      const res = await post(event({ createdAt: zeros }));
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      expect(await stored(res.body.results[0].id, zeros)).to.include({ createdAt: `${day}T00:00:00.123Z` });
    });

    it('answers a body that is not JSON with 400', async () => {
      const res = await post('{"action": "workflow.created",', 'application/json');
      expect(res.status).to.equal(400);
      expect(res.body.code).to.equal('invalid_body');
      expect(res.body.error).to.match(/not valid JSON/);
    });

    it('answers more than 1000 events with 400 naming events, writing none', async () => {
      const ids = Array.from({ length: 1001 }, () => uniqueId('evt'));
      const res = await post({ events: ids.map((id) => event({ id })) });
      expect(res.status).to.equal(400);
      expect(res.body).to.include({ param: 'events', code: 'too_many_events' });
      expect(await stored(ids[0]!)).to.equal(undefined);
      const nd = await post(
        ids.map((id) => JSON.stringify(event({ id }))).join('\n'),
        'application/x-ndjson',
      );
      expect(nd.status).to.equal(400);
      expect(nd.body.param).to.equal('events');
      expect(await stored(ids[0]!)).to.equal(undefined);
    });

    it('answers a body over 5 MB with 413', async () => {
      const res = await post(JSON.stringify(event({ description: 'x'.repeat(5 * 1024 * 1024) })));
      expect(res.status).to.equal(413);
      expect(res.body.code).to.equal('body_too_large');
      expect(res.body.error).to.match(/larger than 5 MB; send fewer events per request/);
    });

    it('answers a malformed NDJSON line with 400 naming the line, and writes none of the lines', async () => {
      const [a, b] = [uniqueId('evt'), uniqueId('evt')];
      const body = [
        JSON.stringify(event({ id: a })),
        JSON.stringify(event({ id: b })),
        '{"action": oops}',
      ].join('\n');
      const res = await post(body, 'application/x-ndjson');
      expect(res.status).to.equal(400);
      expect(res.body.code).to.equal('invalid_ndjson');
      expect(res.body.error).to.match(/^Line 3 /);
      expect(res.body.param).to.equal('line 3');
      expect(await stored(a)).to.equal(undefined);
      expect(await stored(b)).to.equal(undefined);
    });

    it('answers a non-object body or batch with 400', async () => {
      expect((await post('[1,2]')).status).to.equal(400);
      const res = await post({ events: 'nope' });
      expect(res.body).to.include({ param: 'events' });
      expect((await post({ events: [event()], extra: 1 })).body).to.include({ param: 'extra' });
    });

    it('answers other content types with 415', async () => {
      const res = await post('action=workflow.created', 'application/x-www-form-urlencoded');
      expect(res.status).to.equal(415);
      expect(res.body.code).to.equal('unsupported_media_type');
    });

    it('refuses a charset other than UTF-8 with 415, as the operator API does, and stores nothing', async () => {
      for (const charset of ['iso-8859-1', 'utf-16', 'UTF-16LE']) {
        const id = uniqueId('evt');
        const res = await post(event({ id, resourceName: 'Café' }), `application/json; charset=${charset}`);
        expect(res.status, charset).to.equal(415);
        expect(res.body).to.include({ code: 'unsupported_charset', param: 'Content-Type' });
        expect(await ledgerEntry(service.store, orgId, id)).to.equal(undefined);
      }
      for (const charset of ['utf-8', 'UTF-8']) {
        const res = await post(event(), `application/x-ndjson; charset=${charset}`);
        expect(res.status, charset).to.equal(201);
      }
    });

    it('needs an ingest key: none → 401, a personal key → 403', async () => {
      expect((await postEvents(service.url, undefined, event())).status).to.equal(401);
      const userId = uniqueId('usr');
      await putMember(ctx, orgId, userId, { email: `${userId}@example.com`, name: 'Ada', role: 'owner' });
      const personal = (await createApiKey(ctx, orgId, { type: 'personal', userId })).key;
      const res = await post(event(), undefined, personal);
      expect(res.status).to.equal(403);
      expect(res.body.error).to.match(/ingest key/);
    });
  });

  describe('mapping and availability', () => {
    it('stores 10,000 distinct metadata keys without adding a single field to the mapping', async () => {
      expect((await post(event())).status).to.equal(201); // today's index exists before we measure
      const index = dayIndex(new Date());
      const before = await mappingFieldCount(service.store, index);
      const events = Array.from({ length: 10 }, (_, e) =>
        event({
          metadata: Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`m${e * 1000 + i}`, i])),
        }),
      );
      const res = await post({ events });
      expect(res.status, JSON.stringify(res.body.results?.[0])).to.equal(201);
      expect(await mappingFieldCount(service.store, index)).to.equal(before);
      const doc = await stored(res.body.results[9].id);
      expect(Object.keys(doc!.metadata as object)).to.have.length(1000);
      expect((doc!.metadata as Record<string, number>).m9999).to.equal(999);
    });

    it('answers 503 with Retry-After when OpenSearch does not answer, acknowledging nothing', async () => {
      const deadStore = createStore(`http://127.0.0.1:${await freePort(0)}`);
      const server = buildApp({ cfg: ctx.cfg, store: deadStore }).listen(0);
      try {
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        const res = await postEvents(url, key, event());
        expect(res.status).to.equal(503);
        expect(res.headers.get('retry-after')).to.match(/^\d+$/);
        expect(res.body.code).to.equal('storage_unavailable');
        // The ingest function itself (as the directory calls it) throws rather than answering anything.
        const err = await ingestEvents({ cfg: ctx.cfg, store: deadStore }, { boundOrgId: orgId }, [
          event(),
        ]).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(isUnavailable(err)).to.equal(true);
      } finally {
        server.close();
        await deadStore.close();
      }
    });
  });

  describe('ordering for the sealer', () => {
    it('renews acceptedAt when storing the ledger entry took longer than the sealer allows', async () => {
      // The ledger answers 1.5 s late, as under heavy load: by then the sealer may have walked past the
      // entry's original acceptedAt, so the event must be written with a new one, after the slow write.
      let delayed = false;
      const slow = new Proxy(service.store, {
        get(target, prop) {
          const value = Reflect.get(target, prop) as unknown;
          if (prop !== 'bulk' || typeof value !== 'function') {
            return typeof value === 'function' ? value.bind(target) : value;
          }
          return async (params: { body: object[] }) => {
            const res = await value.call(target, params);
            if (!delayed && JSON.stringify(params.body[0]).includes(INTERNAL.ledger)) {
              delayed = true;
              await new Promise((r) => setTimeout(r, LEDGER_FRESH_MS + 500));
            }
            return res;
          };
        },
      });
      const id = uniqueId('evt');
      const sent = Date.now();
      const [result] = await ingestEvents({ cfg: ctx.cfg, store: slow }, { boundOrgId: orgId }, [
        event({ id }),
      ]);
      expect(result).to.deep.equal({ id, status: 'created' });
      expect(delayed).to.equal(true);
      const doc = (await stored(id)) as StoredEvent;
      expect(Date.parse(doc.acceptedAt) - sent).to.be.at.least(LEDGER_FRESH_MS + 500);
      const ledger = await ledgerEntry(service.store, orgId, id);
      // Renewed entries leave the leaf to the sealer, which hashes the event that was stored.
      expect(ledger).to.include({ acceptedAt: doc.acceptedAt });
      expect(ledger).not.to.have.property('leaf');
    });
  });

  describe('idempotency through the ledger', () => {
    it('leaves exactly 1,000 documents when the same 1,000-event batch is sent three times', async () => {
      const org = await seedOrg(ctx);
      const k = await seedIngestKey(ctx, org);
      const prefix = uniqueId('evt');
      const batch = {
        events: Array.from({ length: 1000 }, (_, i) => event({ id: `${prefix}_${i}`, metadata: { n: i } })),
      };
      const first = await post(batch, undefined, k);
      expect(first.status).to.equal(201);
      for (const attempt of [2, 3]) {
        const again = await post(batch, undefined, k);
        expect(again.status, `attempt ${attempt}`).to.equal(207);
        expect(new Set(again.body.results.map((r: { status: string }) => r.status))).to.deep.equal(
          new Set(['duplicate']),
        );
      }
      expect(await countEvents(service.store, org, `${prefix}_`)).to.equal(1000);
    });

    it('answers a retry on another UTC day as a duplicate, leaving one document', async () => {
      const id = uniqueId('evt');
      const yesterday = new Date(Date.now() - DAY_MS).toISOString();
      expect((await post(event({ id, createdAt: yesterday }))).status).to.equal(201);
      const retry = await post(event({ id }));
      expect(retry.status).to.equal(207);
      expect(retry.body.results).to.deep.equal([{ id, status: 'duplicate' }]);
      expect(await countEvents(service.store, orgId, id)).to.equal(1);
      expect(await stored(id, yesterday)).to.include({ createdAt: yesterday });
    });

    it('finishes a first try whose outcome was unknown (ledger written, event not) and answers created', async () => {
      const id = uniqueId('evt');
      const createdAt = new Date(Date.now() - 3_600_000).toISOString();
      const acceptedAt = new Date(Date.now() - 3_500_000).toISOString();
      await service.store.create({
        index: INTERNAL.ledger,
        id: eventDocId(orgId, id),
        body: { orgId, eventId: id, index: dayIndex(createdAt), createdAt, acceptedAt, sealed: false },
      });
      const before = new Date().toISOString();
      const retry = await post(event({ id }));
      expect(retry.status).to.equal(201);
      expect(retry.body.results).to.deep.equal([{ id, status: 'created' }]);
      expect(await countEvents(service.store, orgId, id)).to.equal(1);
      // Accepted now (the first try was never acknowledged); the ledger and the event agree on it.
      const doc = await stored(id, createdAt);
      expect(doc).to.include({ createdAt });
      expect(String(doc!.acceptedAt) >= before).to.equal(true);
      expect((await ledgerEntry(service.store, orgId, id))!.acceptedAt).to.equal(doc!.acceptedAt);
      const again = await post(event({ id }));
      expect(again.body.results).to.deep.equal([{ id, status: 'duplicate' }]);
    });

    it('keeps ids per org: two orgs may use the same event id on the same day, each gets its own event', async () => {
      const id = uniqueId('evt');
      const otherOrg = await seedOrg(ctx);
      const otherKey = await seedIngestKey(ctx, otherOrg);
      const theirs = await post(event({ id, resourceName: 'theirs' }), undefined, otherKey);
      expect(theirs.status).to.equal(201);
      const ours = await post(event({ id, resourceName: 'ours' }));
      expect(ours.status).to.equal(201);
      expect(ours.body.results).to.deep.equal([{ id, status: 'created' }]);
      expect(await countEvents(service.store, orgId, id)).to.equal(1);
      expect(await countEvents(service.store, otherOrg, id)).to.equal(1);
      expect(await stored(id)).to.include({ orgId, resourceName: 'ours' });
    });

    it('writes an id repeated within one batch once', async () => {
      const id = uniqueId('evt');
      const res = await post({ events: [event({ id }), event({ id, resourceName: 'other' })] });
      expect(res.status).to.equal(207);
      expect(res.body.results).to.deep.equal([
        { id, status: 'created' },
        { id, status: 'duplicate' },
      ]);
      expect(await countEvents(service.store, orgId, id)).to.equal(1);
    });
  });
});
