/**
 * Test fixtures for tamper evidence: events ingested through the real write path into a day nobody else
 * uses, and the tampering an attacker with database access would do, written straight to OpenSearch.
 */
import crypto from 'node:crypto';
import type { AppContext } from '../src/context.ts';
import { ingestEvents } from '../src/ingest/ingest.ts';
import type { StoredEvent } from '../src/events/schema.ts';
import { packSeal, sealId, signCheckpoint, type Seal } from '../src/integrity/checkpoint.ts';
import { leafOfEvent } from '../src/integrity/leaf.ts';
import { merkleRoot, packLeaves } from '../src/integrity/merkle.ts';
import { iterateSeals, unsealedCount } from '../src/integrity/seals.ts';
import { Sealer, sealerOptions, type SealerOptions } from '../src/integrity/sealer/sealer.ts';
import { signingKeyFromPem, type SigningKey } from '../src/integrity/signing.ts';
import type { Store } from '../src/store/client.ts';
import { eventDocId, INTERNAL } from '../src/store/names.ts';
import { seedOrg, TEST_SIGNING_KEY_PEM, testConfig, testStore, uniqueId } from './helpers.ts';

export const testKey = signingKeyFromPem(TEST_SIGNING_KEY_PEM);

/**
 * A context whose ingest accepts old createdAt values (sealAfterDays near retention), so the events can go
 * into a day index of the 20th century that only this test touches: tamper tests delete and re-create that index.
 */
export function integrityCtx(): AppContext {
  return {
    cfg: testConfig({
      AUDIT_SEAL_AFTER_DAYS: '36499',
      AUDIT_RETENTION_DAYS: '36500',
      AUDIT_SEAL_INTERVAL_SECONDS: '1',
    }),
    store: testStore(),
  };
}

/** A random UTC day of 1930–1999 (as YYYY-MM-DD), so tests running at the same time do not share day indices. */
export function uniqueDay(): string {
  const day = new Date(Date.UTC(1930, 0, 1) + crypto.randomInt(0, 70 * 365) * 86_400_000);
  return day.toISOString().slice(0, 10);
}

/** Ingests `n` varied events for a new org on `day`, through ingestEvents; returns the org and event ids. */
export async function ingestSample(
  ctx: AppContext,
  n: number,
  day = uniqueDay(),
  orgId?: string,
): Promise<{ orgId: string; ids: string[]; day: string }> {
  const org = orgId ?? (await seedOrg(ctx, uniqueId('org')));
  const inputs = Array.from({ length: n }, (_, i) => ({
    orgId: org,
    id: uniqueId(`evt${String(i).padStart(4, '0')}`),
    action: i % 2 ? 'workflow.updated' : 'member.invited',
    resourceType: i % 2 ? 'workflow' : 'member',
    resourceId: `res_${i}`,
    description: `event number ${i}`,
    actorId: `usr_${i % 3}`,
    actorEmail: `user${i % 3}@example.com`,
    workspaceId: i % 4 === 0 ? 'ws_b' : 'ws_a',
    metadata: { i, tags: ['x', i] },
    createdAt: new Date(Date.parse(`${day}T00:00:00Z`) + i * 1000).toISOString(),
    ipAddress: `192.0.2.${i % 250}`,
    userAgent: 'fixture/1',
  }));
  const ids: string[] = [];
  for (let from = 0; from < n; from += 1000) {
    const results = await ingestEvents(ctx, {}, inputs.slice(from, from + 1000));
    const bad = results.find((r) => r.status !== 'created');
    if (bad) throw new Error(`fixture ingest failed: ${JSON.stringify(bad)}`);
    ids.push(...results.map((r) => r.id));
  }
  return { orgId: org, ids, day };
}

/** A sealer with no safety margin (tests call sealOrg directly, after their ingest calls returned). */
export function testSealer(
  ctx: Pick<AppContext, 'store' | 'written'>,
  overrides: Partial<SealerOptions> = {},
): Sealer {
  return new Sealer(ctx, testKey, sealerOptions(1000, { safetyMarginMs: 0, ...overrides }), () => undefined);
}

/** Seals everything of the org (whoever else may be sealing at the same time) and waits until none is left. */
export async function sealAll(
  ctx: Pick<AppContext, 'store' | 'written'>,
  orgId: string,
  overrides: Partial<SealerOptions> = {},
) {
  const sealer = testSealer(ctx, overrides);
  for (let attempt = 0; attempt < 50; attempt++) {
    await sealer.sealOrg(orgId);
    if ((await unsealedCount(ctx.store, orgId)) === 0) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`org ${orgId} still has unsealed entries`);
}

export { unsealedCount };

type Doc = Record<string, unknown> & { orgId: string; id: string };

/**
 * What an attacker with database access does to a write-once day index: reads every document, deletes the
 * index, re-creates it without `append_only`, and writes the documents back through `mutate` (which may
 * change, drop or add documents). Refuses to touch an index holding documents of orgs other than `orgIds`,
 * so a test can never destroy another test's data on a shared engine.
 */
export async function rewriteDayIndex(
  store: Store,
  index: string,
  orgIds: string[],
  mutate: (docs: Doc[]) => Doc[],
): Promise<void> {
  await store.indices.refresh({ index });
  const res = await store.search({ index, body: { size: 10_000, query: { match_all: {} } } });
  const docs = (res.body as { hits: { hits: { _source: Doc }[] } }).hits.hits.map((h) => h._source);
  const foreign = docs.find((d) => !orgIds.includes(d.orgId));
  if (foreign) throw new Error(`${index} holds events of org ${foreign.orgId}; refusing to rewrite it`);
  const mapping = (await store.indices.getMapping({ index })).body[index]!.mappings;
  await store.indices.delete({ index });
  await store.indices.create({
    index,
    body: { settings: { 'index.append_only.enabled': false }, mappings: mapping } as never,
  });
  const out = mutate(docs);
  if (out.length > 0) {
    const bulk = await store.bulk({
      refresh: true,
      body: out.flatMap((d) => [{ index: { _index: index, _id: eventDocId(d.orgId, d.id) } }, d]),
    });
    if ((bulk.body as { errors: boolean }).errors)
      throw new Error(`rewriting ${index} failed: ${JSON.stringify(bulk.body)}`);
  }
}

/** Every seal of the org, with its lists, in seq order. */
export async function readSeals(store: Store, orgId: string): Promise<Seal[]> {
  await store.indices.refresh({ index: INTERNAL.seals });
  const out: Seal[] = [];
  for await (const s of iterateSeals(store, orgId, { withLists: true })) out.push(s);
  return out;
}

/** Overwrites a seal document (the seals index is not write-once; only the signature protects it). */
export async function writeSeal(store: Store, seal: Seal, seq = seal.seq): Promise<void> {
  const body = packSeal({ ...seal, leaves: packLeaves(seal.leaves) });
  await store.index({ index: INTERNAL.seals, id: sealId(seal.orgId, seq), body, refresh: true });
}

/**
 * What an attacker holding a signing key does after editing events: recompute every seal's leaves and root
 * from the events as they are now, re-link and re-sign the whole chain.
 */
export async function resealChain(store: Store, orgId: string, key: SigningKey): Promise<void> {
  let prev: string | null = null;
  for (const seal of await readSeals(store, orgId)) {
    const ledger = await store.mget({
      index: INTERNAL.ledger,
      body: { ids: seal.eventIds.map((id) => `${orgId}:${id}`) },
    });
    const where = (ledger.body as { docs: { _source: { index: string } }[] }).docs.map(
      (d) => d._source.index,
    );
    const res = await store.mget({
      body: { docs: seal.eventIds.map((id, k) => ({ _index: where[k]!, _id: eventDocId(orgId, id) })) },
    });
    const events = (res.body as { docs: { _source: StoredEvent }[] }).docs.map((d) => d._source);
    const leaves = events.map((e) => leafOfEvent(e));
    const cp = signCheckpoint(
      {
        orgId,
        seq: seal.seq,
        count: seal.count,
        firstAcceptedAt: seal.firstAcceptedAt,
        lastAcceptedAt: seal.lastAcceptedAt,
        root: merkleRoot(leaves.map((l) => l.leaf)),
        prevSealHash: prev,
        sealedAt: seal.sealedAt,
      },
      key,
    );
    await writeSeal(store, {
      ...cp,
      eventIds: seal.eventIds,
      leaves: leaves.map((l) => l.leaf),
      storedHashes: leaves.map((l) => l.storedHash),
    });
    prev = cp.sealHash;
  }
}

/** Where the sealer put an event: its seal and leaf. */
export function positionOf(seals: Seal[], eventId: string): { seq: number; leaf: number } {
  for (const s of seals) {
    const leaf = s.eventIds.indexOf(eventId);
    if (leaf >= 0) return { seq: s.seq, leaf };
  }
  throw new Error(`event ${eventId} is in no seal`);
}
