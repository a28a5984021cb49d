/**
 * Root hook: apply the index templates and internal index definitions once before any test, so no test that
 * writes to an internal index first can make OpenSearch create it with guessed (dynamic) mappings.
 */
import { applyTemplates } from '../src/store/bootstrap.ts';
import { testConfig, testStore } from './helpers.ts';

export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(120_000);
    const store = testStore();
    try {
      await applyTemplates(store, testConfig());
    } finally {
      await store.close();
    }
  },
};
