/**
 * Moves the records of orgs whose id contains `:` to their unambiguous ids (orgRecordId), run with the
 * templates at every start and by `npm run setup`. Such records were once stored under `<orgId>:<key>`, which
 * another org could share (`acme` + `x:alice` = `acme:x` + `alice`). Each record is found by its own orgId
 * field, created under its new id, then its old copy deleted if unchanged since read: a crash or a second
 * instance leaves at most both copies, which the next run resolves. An org is marked done in the service index
 * once a run finds nothing left, so later starts skip it. Events stay where they are (day indices are
 * append-only): they are read at their old id (legacyEventDocId).
 */
import type { Change } from './bootstrap.ts';
import { StoreUnavailable } from '../errors.ts';
import { guarded, searchWhole, type Store } from './client.ts';
import { eventDocId, INTERNAL, orgRecordId } from './names.ts';
import { sealId } from './seal-doc.ts';

type Source = Record<string, unknown>;

interface RecordKind {
  what: string;
  index: string;
  /** The unique field (per org) that orders a scan of the org's records. */
  sortField: string;
  idOf: (orgId: string, doc: Source) => string;
}

const KINDS: RecordKind[] = [
  {
    what: 'workspaces',
    index: INTERNAL.workspaces,
    sortField: 'workspaceId',
    idOf: (o, d) => orgRecordId(o, String(d.workspaceId)),
  },
  {
    what: 'members',
    index: INTERNAL.members,
    sortField: 'userId',
    idOf: (o, d) => orgRecordId(o, String(d.userId)),
  },
  {
    what: 'ledger entries',
    index: INTERNAL.ledger,
    sortField: 'eventId',
    idOf: (o, d) => eventDocId(o, String(d.eventId)),
  },
  { what: 'seals', index: INTERNAL.seals, sortField: 'seq', idOf: (o, d) => sealId(o, Number(d.seq)) },
];

const PAGE = 500;
/** Passes over an org before giving up for this run: a pass may miss a copy its own moves hid behind a page. */
const MAX_PASSES = 3;
const markerId = (orgId: string) => `record-ids-done:${orgId}`;

interface Hit {
  _index: string;
  _id: string;
  _seq_no: number;
  _primary_term: number;
  _source: Source;
  sort: unknown[];
}

/** Migrates every org with `:` in its id that is not marked done; one Change per org whose records moved. */
export async function migrateOrgRecordIds(store: Store): Promise<Change[]> {
  const changes: Change[] = [];
  for (const orgId of await orgsToCheck(store)) {
    let total = 0;
    let moved = -1;
    for (let pass = 0; pass < MAX_PASSES && moved !== 0; pass++) {
      // Each pass searches what the last one wrote, and the ledger is refreshed only on demand.
      await refreshKinds(store);
      moved = 0;
      for (const kind of KINDS) moved += await migrateKind(store, orgId, kind);
      total += moved;
    }
    // The directory's lists and the sealer's walk search these indices: they must see the moves.
    if (total > 0) await refreshKinds(store);
    if (moved === 0) await markDone(store, orgId);
    if (total > 0) {
      changes.push({
        kind: 'record ids',
        name: orgId,
        action: 'updated',
        detail: `${total} record(s) moved to ids no other organization can share`,
      });
    }
  }
  return changes;
}

const refreshKinds = (store: Store) =>
  guarded(store.indices.refresh({ index: KINDS.map((k) => k.index).join(',') }));

/** Orgs with `:` in their id and no done marker. */
async function orgsToCheck(store: Store): Promise<string[]> {
  // An org written moments ago is not searchable before a refresh, and would be left with its old ids.
  await guarded(store.indices.refresh({ index: INTERNAL.orgs }));
  const orgIds: string[] = [];
  let after: unknown[] | undefined;
  for (;;) {
    const res = await searchWhole(store, {
      index: INTERNAL.orgs,
      body: {
        size: PAGE,
        _source: false,
        query: { wildcard: { orgId: '*:*' } },
        sort: [{ orgId: 'asc' }],
        ...(after ? { search_after: after } : {}),
      },
    });
    const hits = (res.body as { hits: { hits: { _id: string; sort: unknown[] }[] } }).hits.hits;
    orgIds.push(...hits.map((h) => h._id));
    if (hits.length < PAGE) break;
    after = hits[hits.length - 1]!.sort;
  }
  if (orgIds.length === 0) return [];
  const res = await guarded(
    store.mget({
      index: INTERNAL.service,
      body: { ids: orgIds.map(markerId) },
      _source: false,
    }),
  );
  const found = (res.body as { docs: { found?: boolean }[] }).docs.map((d) => d.found === true);
  return orgIds.filter((_, i) => !found[i]);
}

async function markDone(store: Store, orgId: string): Promise<void> {
  const body = { kind: 'record-ids-done', value: { orgId, at: new Date().toISOString() } };
  await guarded(store.index({ index: INTERNAL.service, id: markerId(orgId), body }));
}

/** One pass over the org's records of one kind: each one not under its id is copied there, then deleted. */
async function migrateKind(store: Store, orgId: string, kind: RecordKind): Promise<number> {
  let moved = 0;
  let after: unknown[] | undefined;
  for (;;) {
    const res = await searchWhole(store, {
      index: kind.index,
      ignore_unavailable: true,
      allow_no_indices: true,
      body: {
        size: PAGE,
        seq_no_primary_term: true,
        query: { term: { orgId } },
        sort: [{ [kind.sortField]: 'asc' }],
        ...(after ? { search_after: after } : {}),
      },
    });
    const hits = (res.body as { hits: { hits: Hit[] } }).hits.hits;
    const misplaced = hits.filter((h) => h._id !== kind.idOf(orgId, h._source));
    if (misplaced.length > 0) moved += await move(store, orgId, kind, misplaced);
    if (hits.length < PAGE) return moved;
    after = hits[hits.length - 1]!.sort;
  }
}

type BulkItem = { status: number; error?: { type?: string; reason?: string } };

async function bulk(store: Store, body: object[]): Promise<BulkItem[]> {
  const res = await guarded(store.bulk({ body }));
  return (res.body as { items: Record<string, BulkItem>[] }).items.map((it) => Object.values(it)[0]!);
}

/**
 * Moves the records: each is copied to its id, then its old copy deleted; returns how many moved, counting
 * one that changed since read (left for the next pass) as moved too, so the org is not marked done yet.
 */
async function move(store: Store, orgId: string, kind: RecordKind, hits: Hit[]): Promise<number> {
  const created = await bulk(
    store,
    hits.flatMap((h) => [{ create: { _index: h._index, _id: kind.idOf(orgId, h._source) } }, h._source]),
  );
  // Only a copy that is now in place (created, or there from an earlier try) lets its old one go.
  const placed: Hit[] = [];
  created.forEach((item, i) => {
    const h = hits[i]!;
    if (item.status === 201 || item.status === 409) placed.push(h);
    else
      throw new StoreUnavailable(
        `moving ${kind.what} ${h._id} of org ${orgId}: ${item.error?.reason ?? item.status}`,
      );
  });
  if (placed.length === 0) return 0;
  let moved = 0;
  const deleted = await bulk(
    store,
    placed.map((h) => ({
      delete: { _index: h._index, _id: h._id, if_seq_no: h._seq_no, if_primary_term: h._primary_term },
    })),
  );
  deleted.forEach((item, i) => {
    // 404: another run deleted it; 409: it changed since read, so the next pass looks at it again.
    if (item.status === 200 || item.status === 409) moved += 1;
    else if (item.status !== 404)
      throw new StoreUnavailable(
        `removing the old id ${placed[i]!._id}: ${item.error?.reason ?? item.status}`,
      );
  });
  return moved;
}
