import { errors as osErrors } from '@opensearch-project/opensearch';
import { expect } from 'chai';
import { StorageFull } from '../../src/errors.ts';
import { toApiError } from '../../src/http/api-errors.ts';
import { createStore, isStorageFull, storageFailure } from '../../src/store/client.ts';

describe('the OpenSearch client', () => {
  it('reads a stored document with prototype keys as plain data, polluting nothing', async () => {
    const store = createStore('http://127.0.0.1:9');
    try {
      const doc = store.serializer.deserialize(
        '{"metadata":{"__proto__":{"polluted":1},"constructor":{"prototype":{"p":1}}}}',
      ) as { metadata: Record<string, unknown> };
      expect(Object.keys(doc.metadata)).to.deep.equal(['__proto__', 'constructor']);
      expect(JSON.stringify(doc)).to.contain('"__proto__":{"polluted":1}');
      expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
      expect(Object.getPrototypeOf(doc.metadata)).to.equal(Object.prototype);
    } finally {
      await store.close();
    }
  });
});

describe('how OpenSearch refusing a write is answered', () => {
  const refusal = (statusCode: number, type: string) =>
    new osErrors.ResponseError({
      body: { error: { type, reason: `${type} reason` }, status: statusCode },
      statusCode,
      headers: {},
      warnings: null,
      meta: {} as never,
    });

  it('a disk-space block (429 cluster_block_exception) is 503 storage_full with Retry-After, for reads and writes', () => {
    for (const err of [refusal(429, 'cluster_block_exception')]) {
      for (const during of ['read', 'write'] as const) {
        // As the error handler answers it: the store classifies, the catalogue maps.
        const api = toApiError(storageFailure(err), during)!;
        expect(api.status).to.equal(503);
        expect(api.code).to.equal('storage_full');
        expect(api.headers['Retry-After']).to.match(/^[1-9]\d*$/);
      }
    }
    expect(storageFailure(refusal(429, 'cluster_block_exception'))).to.be.instanceOf(StorageFull);
  });

  it('a busy engine (429 rejected execution) stays 503 storage_unavailable', () => {
    const err = refusal(429, 'rejected_execution_exception');
    expect(isStorageFull(err)).to.equal(false);
    expect(toApiError(storageFailure(err), 'write')!.code).to.equal('storage_unavailable');
  });
});
