import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../src/config.ts';

describe('config', () => {
  it('has the documented defaults', () => {
    const cfg = loadConfig({});
    expect(cfg.port).to.equal(3000);
    expect(cfg.opensearchUrl).to.equal(undefined);
    expect(cfg.auditLogsEnabled).to.equal(false);
    expect(cfg.retentionDays).to.equal(400);
    expect(cfg.sealAfterDays).to.equal(2);
    expect(cfg.rateLimitPerMinute).to.equal(600);
    expect(cfg.authFailuresPerMinute).to.equal(30);
    expect(cfg.engine.heapMin).to.equal('512m');
    expect(cfg.engine.heapMax).to.equal('1g');
    expect(cfg.logLevel).to.equal('info');
    expect(loadConfig({ LOG_LEVEL: 'debug' }).logLevel).to.equal('debug');
  });

  it('binds the local mode to loopback, a cluster deployment to every interface, unless HOST says', () => {
    expect(loadConfig({}).host).to.equal('127.0.0.1');
    expect(loadConfig({ OPENSEARCH_URL: 'http://127.0.0.1:9200' }).host).to.equal(undefined);
    expect(loadConfig({ HOST: '0.0.0.0' }).host).to.equal('0.0.0.0');
    expect(loadConfig({ HOST: '::1', OPENSEARCH_URL: 'http://127.0.0.1:9200' }).host).to.equal('::1');
    expect(() => loadConfig({ HOST: 'http://example.com' })).to.throw(ConfigError, /HOST/);
  });

  it('names the variable at fault', () => {
    expect(() => loadConfig({ PORT: 'abc' })).to.throw(ConfigError, /PORT/);
    expect(() => loadConfig({ AUDIT_LOGS_ENABLED: 'yes' })).to.throw(ConfigError, /AUDIT_LOGS_ENABLED/);
    expect(() => loadConfig({ OPENSEARCH_URL: 'localhost:9200' })).to.throw(ConfigError, /OPENSEARCH_URL/);
    expect(() => loadConfig({ LOG_LEVEL: 'verbose' })).to.throw(ConfigError, /LOG_LEVEL/);
    expect(() => loadConfig({ AUDIT_SEAL_AFTER_DAYS: '30', AUDIT_RETENTION_DAYS: '10' })).to.throw(
      ConfigError,
    );
  });
});
