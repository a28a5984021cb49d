import { expect } from 'chai';
import { buildQuery, buildSearch, indicesFor, readWindows } from '../../src/query/build.ts';
import { parseListQuery } from '../../src/query/query-params.ts';

const filters = (q: Record<string, string>) => parseListQuery(q).filters;

describe('read query builder', () => {
  it('always filters by the org, and by the workspace of a workspace key', () => {
    const q = JSON.stringify(buildQuery(filters({}), { orgId: 'org_a', workspaceId: 'ws_1' }));
    expect(q).to.include('{"term":{"orgId":"org_a"}}').and.include('{"term":{"workspaceId":"ws_1"}}');
  });

  it('hides departed actors with a terms lookup on the org’s membership document unless told not to', () => {
    const lookup = (id: string) => ({
      terms: { actorId: { index: 'audit-internal-membership', id, path: 'departed' } },
    });
    // The main document, then the overflow documents that hold departed members beyond one terms query's limit.
    expect((buildQuery(filters({}), { orgId: 'org_a' }) as any).bool.must_not).to.deep.equal([
      // eslint-disable-line @typescript-eslint/no-explicit-any
      lookup('org_a'),
      lookup('org_a~1'),
      lookup('org_a~2'),
      lookup('org_a~3'),
    ]);
    expect(buildQuery(filters({ includeDeparted: 'true' }), { orgId: 'org_a' })).not.to.have.nested.property(
      'bool.must_not',
    );
  });

  it('puts departed ids the read has already fetched into the query itself, and none when there are none', () => {
    const scope = { orgId: 'org_a' };
    const q = buildQuery(filters({}), scope, ['u1', 'u2']) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(q.bool.must_not).to.deep.equal([{ terms: { actorId: ['u1', 'u2'] } }]);
    expect(buildQuery(filters({}), scope, [])).to.not.have.nested.property('bool.must_not');
    expect(buildQuery(filters({ includeDeparted: 'true' }), scope, ['u1'])).to.not.have.nested.property(
      'bool.must_not',
    );
  });

  it('searches every word with bool_prefix multi_match led by description, never query syntax', () => {
    const q = buildQuery(filters({ search: 'a AND (b* "c' }), { orgId: 'org_a' }) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(q.bool.must).to.have.length(4);
    expect(q.bool.must[0].multi_match).to.include({ query: 'a', type: 'bool_prefix', operator: 'and' });
    expect(q.bool.must[0].multi_match.fields[0]).to.match(/^description\^/);
    expect(JSON.stringify(q)).not.to.include('query_string');
  });

  it('sorts by createdAt then id, both descending, and pages with search_after on exactly those', () => {
    const s = buildSearch(filters({}), { orgId: 'org_a' }, 51, [1, 'x']);
    expect(s.body.sort).to.deep.equal([{ createdAt: { order: 'desc' } }, { id: { order: 'desc' } }]);
    expect(s.body.search_after).to.deep.equal([1, 'x']);
    expect(s).to.include({ ignore_unavailable: true, allow_no_indices: true });
  });

  it('searches only the days of the range, and never an empty index list', () => {
    expect(indicesFor(filters({ startDate: '1995-03-01', endDate: '1995-03-02' }))).to.equal(
      'audit-logs-1995.03.01,audit-logs-1995.03.02',
    );
    expect(indicesFor(filters({}))).to.equal('audit-logs-*');
    expect(indicesFor(filters({ startDate: '2990-01-01' }))).to.equal('audit-logs-2990.01.01');
  });

  it('walks disjoint day windows newest first, from the cursor’s day down to the start day', () => {
    const day = (d: string) => Date.parse(`${d}T00:00:00Z`);
    const f = filters({ startDate: '2026-01-01', endDate: '2026-06-30' });
    const w = readWindows(f, [Date.parse('2026-05-10T12:00:00Z'), 'x']);
    expect(w[0]).to.deep.equal({ from: day('2026-05-10'), to: day('2026-05-11') });
    expect(w[1]).to.deep.equal({ from: day('2026-01-01'), to: day('2026-05-10') });
    expect(w).to.have.length(2);
    // An open start ends with one window over everything older, on the pattern with shard pre-filtering.
    const open = readWindows(filters({}));
    expect(open[open.length - 1]).not.to.have.property('from');
    const s = buildSearch(filters({}), { orgId: 'org_a' }, 51, undefined, open[open.length - 1]);
    expect(s).to.include({ index: 'audit-logs-*', pre_filter_shard_size: 1 });
    expect(JSON.stringify(s.body.query)).to.include(
      `{"range":{"createdAt":{"lt":${open[open.length - 1]!.to}}}}`,
    );
  });
});
