/**
 * The directory repositories: orgs, workspaces, members, membership lookups and API keys in their internal
 * indices. Reads return the document with its version; writes are conditional on the version read (see
 * versioned.ts) and answer false when another change came first. `ref` names a document for the directory's
 * audit event ids.
 */
import { getMany, getVersions, type Store } from './client.ts';
import type { ApiKeyRecord, Member, Membership, Org, Workspace } from './directory-records.ts';
import { INTERNAL, orgRecordId } from './names.ts';
import {
  getVersioned,
  listVersionedOfOrg,
  writeAllIfUnchanged,
  writeIfUnchanged,
  type Versioned,
} from './versioned.ts';

export type { Versioned } from './versioned.ts';

/** Where a directory document is stored. */
export interface DocLocation {
  index: string;
  id: string;
}

export const orgDocs = {
  ref: (orgId: string): DocLocation => ({ index: INTERNAL.orgs, id: orgId }),
  get: (store: Store, orgId: string) => getVersioned<Org>(store, INTERNAL.orgs, orgId),
  write: (store: Store, org: Org, prev: Versioned<Org> | undefined) =>
    writeIfUnchanged(store, INTERNAL.orgs, org.orgId, org, prev),
  /** Which of `orgIds` exist (one realtime multi-get, no sources). */
  async existing(store: Store, orgIds: string[]): Promise<Set<string>> {
    const found = await getMany<true>(
      store,
      orgIds.map((id) => ({ _index: INTERNAL.orgs, _id: id })),
      { source: false },
    );
    return new Set(orgIds.filter((_, i) => found[i] !== undefined));
  },
};

const workspaceId = orgRecordId;

export const workspaceDocs = {
  ref: (orgId: string, id: string): DocLocation => ({
    index: INTERNAL.workspaces,
    id: workspaceId(orgId, id),
  }),
  get: (store: Store, orgId: string, id: string) =>
    getVersioned<Workspace>(store, INTERNAL.workspaces, workspaceId(orgId, id)),
  write: (store: Store, ws: Workspace, prev: Versioned<Workspace> | undefined) =>
    writeIfUnchanged(store, INTERNAL.workspaces, workspaceId(ws.orgId, ws.workspaceId), ws, prev),
  /** The org's workspaces, ordered by workspaceId. */
  async list(store: Store, orgId: string): Promise<Workspace[]> {
    return (await listVersionedOfOrg<Workspace>(store, INTERNAL.workspaces, orgId, 'workspaceId')).map(
      (v) => v.doc,
    );
  },
};

const memberId = orgRecordId;

export const memberDocs = {
  ref: (orgId: string, userId: string): DocLocation => ({
    index: INTERNAL.members,
    id: memberId(orgId, userId),
  }),
  get: (store: Store, orgId: string, userId: string) =>
    getVersioned<Member>(store, INTERNAL.members, memberId(orgId, userId)),
  write: (store: Store, member: Member, prev: Versioned<Member> | undefined) =>
    writeIfUnchanged(store, INTERNAL.members, memberId(member.orgId, member.userId), member, prev),
  /** Every member of the org, current and departed, ordered by userId, each with its version. */
  list: (store: Store, orgId: string) => listVersionedOfOrg<Member>(store, INTERNAL.members, orgId, 'userId'),
  /** Many members of one org, each as `write` would; returns how many lost a race with another change. */
  writeAll: (store: Store, writes: { next: Member; prev: Versioned<Member> | undefined }[]) =>
    writeAllIfUnchanged(
      store,
      INTERNAL.members,
      writes.map((w) => ({ id: memberId(w.next.orgId, w.next.userId), doc: w.next, prev: w.prev })),
      'member',
    ),
};

/**
 * The departed list is spread over up to DEPARTED_DOCS lookup documents (`orgId`, then `orgId~1` …), each
 * below `index.max_terms_count` (65,536) of the searched day indices, which a single terms lookup may not
 * exceed. The read path ORs one lookup per document; a document that does not exist contributes no terms.
 */
export const DEPARTED_DOCS = 4;
export const DEPARTED_PER_DOC = 60_000;
const lookupId = (orgId: string, i: number) => (i === 0 ? orgId : `${orgId}~${i}`);
const lookupRefs = (orgId: string) =>
  Array.from({ length: DEPARTED_DOCS }, (_, i) => ({ _index: INTERNAL.membership, _id: lookupId(orgId, i) }));

export const membershipDocs = {
  /** Lookup document `i` of the org (0 is the main one). */
  get: (store: Store, orgId: string, i = 0) =>
    getVersioned<Membership>(store, INTERNAL.membership, lookupId(orgId, i)),
  /** All DEPARTED_DOCS lookup documents of the org, each undefined when absent. */
  getAll: (store: Store, orgId: string) =>
    Promise.all(Array.from({ length: DEPARTED_DOCS }, (_, i) => membershipDocs.get(store, orgId, i))),
  write: (store: Store, i: number, doc: Membership, prev: Versioned<Membership> | undefined) =>
    writeIfUnchanged(store, INTERNAL.membership, lookupId(doc.orgId, i), doc, prev),
  /** The org's departed user ids, from all its lookup documents (realtime: as of the last change). */
  async departed(store: Store, orgId: string): Promise<string[]> {
    const docs = await getMany<Pick<Membership, 'departed'>>(store, lookupRefs(orgId), {
      source: ['departed'],
    });
    return docs.flatMap((d) => d?.departed ?? []);
  },
  /** A string that changes whenever any of the org's lookup documents does (realtime), without reading them. */
  async version(store: Store, orgId: string): Promise<string> {
    return (await getVersions(store, lookupRefs(orgId))).map((v) => v ?? '-').join(',');
  },
  /** A terms lookup on one list of lookup document `doc` of the org, for queries of the read path. */
  lookup: (orgId: string, path: 'current' | 'departed', doc = 0) => ({
    index: INTERNAL.membership,
    id: lookupId(orgId, doc),
    path,
  }),
};

export const apiKeyDocs = {
  ref: (id: string): DocLocation => ({ index: INTERNAL.apiKeys, id }),
  get: (store: Store, id: string) => getVersioned<ApiKeyRecord>(store, INTERNAL.apiKeys, id),
  write: (store: Store, rec: ApiKeyRecord, prev: Versioned<ApiKeyRecord> | undefined) =>
    writeIfUnchanged(store, INTERNAL.apiKeys, rec.id, rec, prev),
  /** The org's keys (any kind, revoked ones included), ordered by creation. */
  async list(store: Store, orgId: string): Promise<ApiKeyRecord[]> {
    return (await listVersionedOfOrg<ApiKeyRecord>(store, INTERNAL.apiKeys, orgId, 'createdAt')).map(
      (v) => v.doc,
    );
  },
};
