import { expect } from 'chai';
import { decodeCursor, encodeCursor, queryFingerprint, type SortKey } from '../../src/query/cursor.ts';
import { parseListQuery } from '../../src/query/query-params.ts';
import { errorOf } from './api-error.ts';

const SECRET = 'unit-test-secret';
const scope = { orgId: 'org_a' };
const fp = queryFingerprint(parseListQuery({ action: 'workflow.created' }).filters, scope);
const key: SortKey = [794_016_000_123, 'evt_01'];

function rejects(cursor: string, fingerprint = fp, secret = SECRET) {
  expect(errorOf(() => decodeCursor(secret, cursor, fingerprint))).to.include({
    code: 'invalid_cursor',
    param: 'cursor',
  });
}

describe('read cursors', () => {
  it('round-trips the sort key and is URL-safe', () => {
    const c = encodeCursor(SECRET, key, fp);
    expect(c).to.match(/^[A-Za-z0-9_.-]+$/);
    expect(decodeCursor(SECRET, c, fp)).to.deep.equal(key);
  });

  it('refuses truncated, edited, forged and foreign-secret cursors', () => {
    const c = encodeCursor(SECRET, key, fp);
    rejects(c.slice(0, -1));
    rejects(c.slice(0, c.lastIndexOf('.')));
    rejects(`${c}x`);
    rejects('');
    rejects('c2' + c.slice(2));
    const [v, , mac] = c.split('.');
    const edited = Buffer.from(JSON.stringify([key[0] + 1, key[1]])).toString('base64url');
    rejects(`${v}.${edited}.${mac}`);
    rejects(Buffer.from(JSON.stringify({ id: 'evt_01' })).toString('base64url'));
    rejects(c, fp, 'another-secret');
  });

  it('binds a cursor to its query and scope, but not to the page size', () => {
    const c = encodeCursor(SECRET, key, fp);
    rejects(c, queryFingerprint(parseListQuery({ action: 'workflow.deleted' }).filters, scope));
    rejects(c, queryFingerprint(parseListQuery({ action: 'workflow.created' }).filters, { orgId: 'org_b' }));
    rejects(
      c,
      queryFingerprint(parseListQuery({ action: 'workflow.created' }).filters, {
        orgId: 'org_a',
        workspaceId: 'ws',
      }),
    );
    // Same question, other spelling and another limit: the same query.
    const same = parseListQuery({ action: ['workflow.created', 'workflow.created'], limit: '7' });
    expect(decodeCursor(SECRET, c, queryFingerprint(same.filters, scope))).to.deep.equal(key);
  });
});

describe('read query string', () => {
  it('applies defaults and normalizes lists and dates', () => {
    const r = parseListQuery({
      action: 'b.x,a.y,a.y',
      endDate: '1995-03-02',
      startDate: '1995-03-01T10:00:00+02:00',
    });
    expect(r.limit).to.equal(50);
    expect(r.filters.actions).to.deep.equal(['a.y', 'b.x']);
    expect(r.filters.start?.toISOString()).to.equal('1995-03-01T08:00:00.000Z');
    expect(r.filters.end?.toISOString()).to.equal('1995-03-02T23:59:59.999Z');
    expect(r.filters.includeDeparted).to.equal(false);
  });

  for (const [query, code, param] of [
    [{ foo: '1' }, 'unknown_parameter', 'foo'],
    [{ limit: '0' }, 'invalid_parameter', 'limit'],
    [{ limit: '101' }, 'invalid_parameter', 'limit'],
    [{ limit: '2.5' }, 'invalid_parameter', 'limit'],
    [{ limit: ['1', '2'] }, 'invalid_parameter', 'limit'],
    [{ includeDeparted: 'yes' }, 'invalid_parameter', 'includeDeparted'],
    [{ startDate: '1995-02-30' }, 'invalid_parameter', 'startDate'],
    [{ endDate: 'yesterday' }, 'invalid_parameter', 'endDate'],
    [{ startDate: '1995-03-02', endDate: '1995-03-01' }, 'invalid_parameter', 'startDate'],
    [{ action: 'Workflow Created' }, 'invalid_parameter', 'action'],
    [{ search: 'x'.repeat(201) }, 'invalid_parameter', 'search'],
  ] as const) {
    it(`answers ${code} for ${JSON.stringify(query).slice(0, 60)}`, () => {
      expect(errorOf(() => parseListQuery(query as Record<string, unknown>))).to.include({
        code,
        param,
        status: 400,
      });
    });
  }
});
