import { expect } from 'chai';
import { checkEvent, type CheckOptions, type Rejection } from '../../src/ingest/validate.ts';

const NOW = new Date('2026-11-26T10:00:00.000Z');
const opts: CheckOptions = { boundOrgId: 'acme', now: NOW, sealAfterDays: 2 };
const minimal = { action: 'workflow.created', resourceType: 'workflow' };

function rejected(input: unknown, o: CheckOptions = opts): Rejection {
  const r = checkEvent(input, o);
  if (r.ok) throw new Error(`expected a rejection, got ${JSON.stringify(r.doc)}`);
  return r;
}

describe('checkEvent (the pure checks of one posted event)', () => {
  it('fills in the stored document: bound org, ULID, now, nulls, {} and a catalogue description', () => {
    const r = checkEvent({ ...minimal, resourceName: 'Customer Onboarding' }, opts);
    if (!r.ok) throw new Error(r.error);
    expect(r.doc).to.include({
      orgId: 'acme',
      action: 'workflow.created',
      resourceType: 'workflow',
      resourceName: 'Customer Onboarding',
      description: 'Created workflow "Customer Onboarding"',
      resourceId: null,
      actorId: null,
      actorName: null,
      actorEmail: null,
      workspaceId: null,
      ipAddress: null,
      userAgent: null,
      createdAt: NOW.toISOString(),
      acceptedAt: NOW.toISOString(),
    });
    expect(r.doc.metadata).to.deep.equal({});
    expect(r.doc.id).to.match(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(r.index).to.equal('audit-logs-2026.11.26');
  });

  it('keeps the producer id, normalizes createdAt to UTC milliseconds and picks its day index', () => {
    const r = checkEvent({ ...minimal, id: 'evt_1', createdAt: '2026-11-25T23:30:00+01:00' }, opts);
    if (!r.ok) throw new Error(r.error);
    expect(r.doc.id).to.equal('evt_1');
    expect(r.doc.createdAt).to.equal('2026-11-25T22:30:00.000Z');
    expect(r.index).to.equal('audit-logs-2026.11.25');
  });

  it('gives ULIDs that increase within one millisecond', () => {
    const ids = Array.from({ length: 5 }, () => {
      const r = checkEvent(minimal, opts);
      return r.ok ? r.doc.id : '';
    });
    expect([...ids].sort()).to.deep.equal(ids);
    expect(new Set(ids).size).to.equal(5);
  });

  it('names the field at fault for schema failures, and answers the usable id', () => {
    const cases: [unknown, string, RegExp][] = [
      [{ resourceType: 'workflow' }, 'action', /action is required/],
      [{ ...minimal, action: 'Workflow' }, 'action', /"resource\.action"/],
      [{ ...minimal, resourceType: 'Work Flow' }, 'resourceType', /lowercase letters/],
      [{ ...minimal, actorEmail: 'not-an-email' }, 'actorEmail', /email address/],
      [{ ...minimal, ipAddress: '999.1.1.1' }, 'ipAddress', /IPv4 or IPv6/],
      [{ ...minimal, createdAt: 'yesterday' }, 'createdAt', /ISO 8601/],
      [{ ...minimal, resourceName: 5 }, 'resourceName', /must be a string \(got a number\)/],
      [{ ...minimal, metadata: [1] }, 'metadata', /JSON object/],
      [{ ...minimal, resourceId: '' }, 'resourceId', /at least 1 characters/],
      [{ ...minimal, seats: 5 }, 'seats', /not a field of an event/],
    ];
    for (const [input, param, message] of cases) {
      const r = rejected({ id: 'evt_7', ...(input as object) });
      expect(r.param, JSON.stringify(input)).to.equal(param);
      expect(r.error, JSON.stringify(input)).to.match(message);
      expect(r.id).to.equal('evt_7');
    }
    expect(rejected('a string')).to.deep.equal({
      ok: false,
      id: '',
      error: 'Each event must be a JSON object',
    });
    expect(rejected({ ...minimal, id: 'has space' }).id).to.equal('');
  });

  it('requires orgId from an unbound key and refuses another org from a bound one', () => {
    const unbound = { now: NOW, sealAfterDays: 2 };
    expect(rejected(minimal, unbound)).to.include({ param: 'orgId' });
    const ok = checkEvent({ ...minimal, orgId: 'beta' }, unbound);
    expect(ok.ok && ok.doc.orgId).to.equal('beta');
    expect(rejected({ ...minimal, orgId: 'beta' }).error).to.match(/not the org this ingest key is bound to/);
    expect(checkEvent({ ...minimal, orgId: 'acme' }, opts).ok).to.equal(true);
  });

  it('allows 5 minutes of clock skew into the future, not more', () => {
    expect(checkEvent({ ...minimal, createdAt: '2026-11-26T10:05:00.000Z' }, opts).ok).to.equal(true);
    expect(rejected({ ...minimal, createdAt: '2026-11-26T10:05:00.001Z' }).error).to.match(
      /more than 5 minutes in the future/,
    );
  });

  it('accepts back-fill into days younger than the seal age and refuses sealed days', () => {
    expect(checkEvent({ ...minimal, createdAt: '2026-11-25T00:00:00.000Z' }, opts).ok).to.equal(true);
    const r = rejected({ ...minimal, createdAt: '2026-11-24T23:59:59.999Z' });
    expect(r.param).to.equal('createdAt');
    expect(r.error).to.match(/falls on UTC day 2026-11-24, which is sealed \(it is 2 days old/);
  });

  it('refuses metadata over 16 KB as JSON', () => {
    const fits = { a: 'x'.repeat(16 * 1024 - 8) }; // {"a":"…"} is 8 bytes around the value
    expect(checkEvent({ ...minimal, metadata: fits }, opts).ok).to.equal(true);
    const r = rejected({ ...minimal, metadata: { a: 'x'.repeat(16 * 1024 - 7) } });
    expect(r).to.include({ param: 'metadata' });
    expect(r.error).to.match(/16385 bytes as JSON; at most 16384/);
  });

  it('refuses what could not be stored and read back unchanged, naming its path', () => {
    const proto = JSON.parse('{"a":{"__proto__":{"x":1}}}');
    expect(rejected({ ...minimal, metadata: proto })).to.include({ param: 'metadata.a.__proto__' });
    expect(rejected({ ...minimal, metadata: { constructor: null } })).to.include({
      param: 'metadata.constructor',
    });
    expect(rejected({ ...minimal, resourceName: 'half \ud83d emoji' })).to.include({ param: 'resourceName' });
    let deep: unknown = 1;
    for (let i = 0; i < 25; i++) deep = [deep];
    expect(rejected({ ...minimal, metadata: { deep } }).param).to.match(/^metadata\.deep\[0\]/);
  });
});
