import { expect } from 'chai';
import { Metrics } from '../../src/observe/metrics.ts';

describe('metrics', () => {
  it('keeps one registry per instance, so two apps in a process count apart', async () => {
    const a = new Metrics();
    const b = new Metrics();
    a.rateLimited.inc();
    expect(await a.registry.metrics()).to.match(/audit_rate_limited_requests_total 1/);
    expect(await b.registry.metrics()).to.match(/audit_rate_limited_requests_total 0/);
  });

  it('counts OpenSearch failures by a bounded kind, not the answers the service asks for', async () => {
    const m = new Metrics();
    m.opensearchError({ name: 'ResponseError', statusCode: 404 });
    m.opensearchError({ name: 'ResponseError', statusCode: 409 });
    m.opensearchError({
      name: 'ResponseError',
      statusCode: 400,
      meta: { body: { error: { type: 'parsing_exception' } } },
    });
    m.opensearchError({ name: 'ConnectionError' });
    m.opensearchError({ name: 'Weird name with spaces' });
    const text = await m.registry.metrics();
    expect(text).to.match(/audit_opensearch_errors_total\{kind="parsing_exception"\} 1/);
    expect(text).to.match(/audit_opensearch_errors_total\{kind="ConnectionError"\} 1/);
    expect(text).to.match(/audit_opensearch_errors_total\{kind="unknown"\} 1/);
    expect(text).not.to.match(/kind="ResponseError"/);
  });

  it('reports the sealer lag where this instance leads, growing with time; 0 elsewhere', async () => {
    const m = new Metrics();
    const lag = async () => Number(/^audit_sealer_lag_seconds (\S+)$/m.exec(await m.registry.metrics())?.[1]);
    expect(await lag()).to.equal(0);
    m.sealedUpTo = Date.now() - 30_000;
    expect(await lag()).to.be.within(30, 40);
    m.sealedUpTo = undefined;
    expect(await lag()).to.equal(0);
  });
});
