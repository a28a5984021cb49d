/** Every document of one org in a directory index, paged with search_after (no 10,000-hit window). */
import type { AppContext } from '../context.ts';
import type { Versioned } from './versioned.ts';

const PAGE = 1000;

export async function listOfOrg<T>(
  ctx: AppContext,
  index: string,
  orgId: string,
  sortField: string,
): Promise<T[]> {
  return (await listVersionedOfOrg<T>(ctx, index, orgId, sortField)).map((v) => v.doc);
}

/** The same, each document with its version, for writes conditional on what was listed. */
export async function listVersionedOfOrg<T>(
  ctx: AppContext,
  index: string,
  orgId: string,
  sortField: string,
): Promise<Versioned<T>[]> {
  const out: Versioned<T>[] = [];
  let after: unknown[] | undefined;
  for (;;) {
    const { body } = await ctx.store.search({
      index,
      body: {
        size: PAGE,
        query: { term: { orgId } },
        seq_no_primary_term: true,
        sort: [{ [sortField]: 'asc' }],
        ...(after ? { search_after: after } : {}),
      } as never,
    });
    const hits = body.hits.hits;
    for (const h of hits) out.push({ doc: h._source as T, seqNo: h._seq_no!, primaryTerm: h._primary_term! });
    if (hits.length < PAGE) return out;
    after = hits[hits.length - 1]!.sort as unknown[];
  }
}
