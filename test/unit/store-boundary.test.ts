/**
 * The storage boundary: a store function that cannot reach OpenSearch reports StoreUnavailable (the 503 every
 * route answers), never the client's raw error. Port 9 (discard) refuses the connection at once.
 */
import { expect } from 'chai';
import { StoreUnavailable } from '../../src/errors.ts';
import { allBuckets, createStore, getSource, type Store } from '../../src/store/client.ts';
import { findEventIndex } from '../../src/store/event-lookups.ts';
import { countOverTime, oldestCreatedAt, topValues } from '../../src/store/events.ts';
import * as indices from '../../src/store/index-blocks.ts';
import * as stats from '../../src/store/index-stats.ts';
import * as months from '../../src/store/month-indices.ts';

async function failureOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
}

describe('the storage boundary', () => {
  let store: Store;
  before(() => {
    store = createStore('http://127.0.0.1:9');
  });
  after(() => store.close());

  const day = 'audit-logs-2026.01.01';
  const calls: [string, () => Promise<unknown>][] = [
    ['oldestCreatedAt', () => oldestCreatedAt(store, day, { match_all: {} })],
    [
      'countOverTime',
      () => countOverTime(store, day, { match_all: {} }, { name: '1h', ms: 3_600_000 }, { min: 0, max: 1 }),
    ],
    ['topValues', () => topValues(store, day, { match_all: {} }, { action: 5 })],
    ['findEventIndex', () => findEventIndex(store, 'org', 'id')],
    ['getSource', () => getSource(store, day, 'id')],
    ['allBuckets', () => allBuckets(store, day, 'orgId')],
    ['indexStats', () => stats.indexStats(store, day)],
    ['writeBlockedIndices', () => indices.writeBlockedIndices(store, day)],
    ['indicesRefusingWrites', () => indices.indicesRefusingWrites(store, [day])],
    ['sealIndex', () => indices.sealIndex(store, day)],
    ['deleteIndex', () => indices.deleteIndex(store, day)],
    ['ismExplain', () => indices.ismExplain(store, day)],
    ['monthIndices', () => months.monthIndices(store, day)],
    ['countDocs', () => stats.countDocs(store, day)],
    ['docsPerDay', () => months.docsPerDay(store, 'audit-logs-month-2026.01')],
  ];
  for (const [name, call] of calls) {
    it(`${name} reports an unreachable OpenSearch as StoreUnavailable`, async () => {
      expect(await failureOf(call())).to.be.instanceOf(StoreUnavailable);
    });
  }
});
