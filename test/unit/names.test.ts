import { expect } from 'chai';
import { DIRECTORY_ID_PATTERN } from '../../src/events/schema.ts';
import { ID_PATTERN } from '../../src/events/schema.ts';
import { dayIndex, dayOfIndex, indicesForRange, orgRecordId } from '../../src/store/names.ts';

describe('index names', () => {
  it('names the UTC day of createdAt', () => {
    expect(dayIndex('2026-04-20T23:59:59.999-02:00')).to.equal('audit-logs-2026.04.21');
    expect(dayOfIndex('audit-logs-2026.04.21')?.toISOString()).to.equal('2026-04-21T00:00:00.000Z');
    expect(dayOfIndex('audit-logs-late')).to.equal(undefined);
  });

  it('lists only the days a range touches', () => {
    expect(indicesForRange(new Date('2026-01-30T10:00:00Z'), new Date('2026-02-01T00:00:00Z'))).to.equal(
      'audit-logs-2026.01.30,audit-logs-2026.01.31,audit-logs-2026.02.01',
    );
    expect(indicesForRange(undefined, new Date())).to.equal('audit-logs-*');
  });

  it('gives two orgs one record id never, whatever ":" their ids hold', () => {
    const orgs = ['acme', 'acme:x', 'acme:x:y', 'a', 'a:', ':a'];
    const keys = ['x:alice', 'alice', 'y:alice', 'x:y:alice', ':', 'x', '000000000001'];
    const seen = new Map<string, string>();
    for (const org of orgs)
      for (const key of keys) {
        const id = orgRecordId(org, key);
        expect(seen.get(id), `${org} + ${key} = ${id}`).to.equal(undefined);
        seen.set(id, `${org} + ${key}`);
      }
    expect(orgRecordId('acme', 'x:alice')).to.equal('acme:x:alice'); // ids of orgs without ":" are unchanged
    expect(orgRecordId('acme:x', 'alice')).to.equal('acme%3Ax:alice');
  });

  it('keeps the longest record id within the 512 bytes OpenSearch allows for an _id', () => {
    const org = `a${':'.repeat(127)}`;
    const key = ':'.repeat(128);
    expect(new RegExp(DIRECTORY_ID_PATTERN).test(org) && new RegExp(ID_PATTERN).test(key)).to.equal(true);
    expect(Buffer.byteLength(orgRecordId(org, key))).to.be.at.most(512);
  });
});
