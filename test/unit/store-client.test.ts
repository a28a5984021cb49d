import { expect } from 'chai';
import { createStore } from '../../src/store/client.ts';

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
