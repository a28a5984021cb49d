import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, loadConfig, parseNodes } from '../../src/config.ts';
import { TEMPLATES_DIR } from '../../src/store/bootstrap.ts';
import { redact } from '../../src/startup-error.ts';
import { PERMISSIONS, clientOptions, connectionConfig } from '../../src/store/connection.ts';

describe('connection options', () => {
  it('takes one node URL or a comma-separated list', () => {
    expect(parseNodes('http://a:9200')).to.deep.equal(['http://a:9200']);
    expect(parseNodes(' https://a:9200, https://b:9200 ,')).to.deep.equal([
      'https://a:9200',
      'https://b:9200',
    ]);
    expect(() => parseNodes('http://a:9200,b:9200')).to.throw(ConfigError, /OPENSEARCH_URL/);
  });

  it('never shows a password from the URL in a config error', () => {
    expect(() => parseNodes('https://u:s3cret@a:9200,ftp://u:s3cret@b'))
      .to.throw(ConfigError)
      .that.satisfies((e: Error) => !e.message.includes('s3cret'));
  });

  it('masks credentials in URLs and the configured password', () => {
    const conn = { nodes: ['https://audit:pa55word@os1:9200'], password: 'other-secret' };
    expect(redact('at https://audit:pa55word@os1:9200 and https://x:y@os2', conn)).to.equal(
      'at https://***@os1:9200 and https://***@os2',
    );
    expect(redact('Basic failed for pa55word / other-secret', conn)).to.equal('Basic failed for *** / ***');
  });

  it('checks pairs and the SigV4 service', () => {
    expect(() => loadConfig({ OPENSEARCH_USERNAME: 'u' })).to.throw(
      /OPENSEARCH_USERNAME and OPENSEARCH_PASSWORD/,
    );
    expect(() => loadConfig({ OPENSEARCH_AWS_REGION: 'eu-west-1', OPENSEARCH_AWS_SERVICE: 'ec2' })).to.throw(
      /OPENSEARCH_AWS_SERVICE/,
    );
    expect(() => loadConfig({ OPENSEARCH_CA_CERT: '/no/such/ca.pem' })).to.throw(/OPENSEARCH_CA_CERT/);
  });

  it('builds client options: nodes, basic auth, verified TLS', () => {
    const cfg = loadConfig({ OPENSEARCH_USERNAME: 'u', OPENSEARCH_PASSWORD: 'p' });
    const opts = clientOptions(connectionConfig(cfg, 'https://a:9200,https://b:9200'));
    expect(opts.node).to.deep.equal(['https://a:9200', 'https://b:9200']);
    expect(opts.auth).to.deep.equal({ username: 'u', password: 'p' });
    const tls = clientOptions({ nodes: ['https://a:9200'], ca: '-----BEGIN CERTIFICATE-----' });
    expect(tls.ssl).to.include({ rejectUnauthorized: true });
  });

  it('grants in roles.yml every permission a start-up 403 can name', () => {
    const roles = fs.readFileSync(path.join(TEMPLATES_DIR, 'security', 'roles.yml'), 'utf8');
    for (const [, , permission] of PERMISSIONS) expect(roles, permission).to.contain(`'${permission}'`);
  });
});
