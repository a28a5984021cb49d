/** Shared by the ingest tests: posting to the service and looking into OpenSearch the way an operator would. */
import type { Store } from '../../src/store/client.ts';
import { AUDIT_INDEX_PATTERN, INTERNAL } from '../../src/store/names.ts';

export interface Posted {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

export async function postEvents(
  url: string,
  key: string | undefined,
  body: unknown,
  contentType = 'application/json',
): Promise<Posted> {
  const res = await fetch(`${url}/api/v1/audit-logs`, {
    method: 'POST',
    headers: { ...(key ? { Authorization: `Bearer ${key}` } : {}), 'Content-Type': contentType },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

/**
 * Documents of one org across every day index whose id starts with `idPrefix` (the directory's own events of
 * the org are not counted), after a refresh: what a search would find.
 */
export async function countEvents(store: Store, orgId: string, idPrefix: string): Promise<number> {
  await store.indices.refresh({
    index: AUDIT_INDEX_PATTERN,
    ignore_unavailable: true,
    allow_no_indices: true,
  });
  const filter: object[] = [{ term: { orgId } }, { prefix: { id: idPrefix } }];
  const res = await store.count({
    index: AUDIT_INDEX_PATTERN,
    ignore_unavailable: true,
    allow_no_indices: true,
    body: { query: { bool: { filter } } },
  });
  return res.body.count;
}

/** The ledger entry of an event, or undefined. */
export async function ledgerEntry(
  store: Store,
  orgId: string,
  id: string,
): Promise<Record<string, unknown> | undefined> {
  const res = await store.get({ index: INTERNAL.ledger, id: `${orgId}:${id}` }, { ignore: [404] });
  return res.body.found ? (res.body._source as Record<string, unknown>) : undefined;
}

/** Number of leaf fields in an index's mapping (what `index.mapping.total_fields.limit` counts, roughly). */
export async function mappingFieldCount(store: Store, index: string): Promise<number> {
  const res = await store.indices.getMapping({ index });
  const count = (props: Record<string, { properties?: object; fields?: object }> = {}): number =>
    Object.values(props).reduce(
      (n, p) =>
        n +
        1 +
        count(p.properties as never) +
        Object.keys((p.fields as Record<string, unknown>) ?? {}).length,
      0,
    );
  return count(res.body[index]!.mappings.properties as never);
}
