/** Every document of one org in a directory index, paged with search_after (no 10,000-hit window). */
import type { AppContext } from '../context.ts';

const PAGE = 1000;

export async function listOfOrg<T>(
  ctx: AppContext,
  index: string,
  orgId: string,
  sortField: string,
): Promise<T[]> {
  const out: T[] = [];
  let after: unknown[] | undefined;
  for (;;) {
    const { body } = await ctx.store.search({
      index,
      body: {
        size: PAGE,
        query: { term: { orgId } },
        sort: [{ [sortField]: 'asc' }],
        ...(after ? { search_after: after } : {}),
      } as never,
    });
    const hits = body.hits.hits;
    for (const h of hits) out.push(h._source as T);
    if (hits.length < PAGE) return out;
    after = hits[hits.length - 1]!.sort as unknown[];
  }
}
