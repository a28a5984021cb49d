import { expect } from 'chai';
import { dayIndex, dayOfIndex, indicesForRange } from '../../src/store/names.ts';

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
});
