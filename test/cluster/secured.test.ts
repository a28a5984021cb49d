/**
 * The service and the operator scripts against a secured endpoint: nginx terminating TLS with basic auth in
 * front of the engine, and an endpoint checking SigV4 signatures. Each way of failing at start-up stops
 * with one line naming the variable to fix, and no credential is ever printed.
 */
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { postEvents } from '../fixtures/ingest.ts';
import { startService } from '../../src/server.ts';
import { freePort } from '../../scripts/lib/engine/engine.ts';
import { testConfig } from '../helpers.ts';
import { runScript } from '../scripts.ts';
import {
  AWS_TEST_CREDENTIALS,
  AWS_TEST_REGION,
  NGINX_PASSWORD,
  NGINX_USER,
  orgWithKeys,
  startNginx,
  startSigV4Endpoint,
  type Nginx,
  type SigV4Endpoint,
} from '../fixtures/cluster.ts';

/** GET of one event, retried while a search cannot see it yet (the index refreshes once a second). */
async function readEvent(
  base: string,
  key: string,
  id: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(`${base}/api/v1/audit-logs/${id}`, {
      headers: { authorization: `Bearer ${key}` },
    });
    const body = (await res.json()) as Record<string, unknown>;
    if (res.status !== 404 || attempt >= 20) return { status: res.status, body };
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The start-up error of the service under `env`, or undefined when it started. */
async function startupFailure(env: Record<string, string>): Promise<string | undefined> {
  const service = await startService(testConfig(env)).catch((err: Error) => err);
  if (service instanceof Error) return service.message;
  await service.close();
  return undefined;
}

describe('a secured cluster: TLS and basic auth through nginx', function () {
  this.timeout(120_000);
  let nginx: Nginx;
  let good: Record<string, string>;

  before(async () => {
    nginx = await startNginx();
    good = {
      AUDIT_LOGS_ENABLED: 'true',
      OPENSEARCH_URL: nginx.url,
      OPENSEARCH_USERNAME: NGINX_USER,
      OPENSEARCH_PASSWORD: NGINX_PASSWORD,
      OPENSEARCH_CA_CERT: nginx.ca,
    };
  });
  after(() => nginx?.stop());

  it('serves ingest, reads and /healthz through it, without showing a credential', async () => {
    const service = await startService(testConfig(good));
    try {
      const { ingest, read } = await orgWithKeys({ cfg: testConfig(good), store: service.store });
      const posted = await postEvents(service.url, ingest, {
        id: 'evt-through-tls',
        action: 'workflow.created',
        resourceType: 'workflow',
        resourceName: 'Through nginx',
      });
      expect(posted.status, JSON.stringify(posted.body)).to.equal(201);
      const got = await readEvent(service.url, read, 'evt-through-tls');
      expect(got.status).to.equal(200);
      expect(got.body.resourceName).to.equal('Through nginx');

      const health = await fetch(`${service.url}/healthz`);
      const text = await health.text();
      expect(health.status).to.equal(200);
      const body = JSON.parse(text);
      expect(body.opensearch.cluster).to.be.a('string').and.not.equal('');
      expect(body.opensearch.nodes).to.be.at.least(1);
      expect(body.opensearch.status).to.be.oneOf(['green', 'yellow']);
      expect(text).not.to.contain(NGINX_PASSWORD);
      expect(text).not.to.contain(nginx.url);
    } finally {
      await service.close();
    }
  });

  it('runs npm run setup and indices through it, credentials in the URL masked in the output', async () => {
    const inUrl = {
      OPENSEARCH_URL: nginx.url.replace('https://', `https://${NGINX_USER}:${NGINX_PASSWORD}@`),
      OPENSEARCH_CA_CERT: nginx.ca,
    };
    const setup = await runScript('setup', [], inUrl);
    expect(setup.code, setup.stderr).to.equal(0);
    expect(setup.stdout).to.contain(`OpenSearch: https://***@localhost:${nginx.port}`);
    expect(setup.stdout + setup.stderr).not.to.contain(NGINX_PASSWORD);
    const indices = await runScript('indices', [], good);
    expect(indices.code, indices.stderr).to.equal(0);
    expect(indices.stdout).to.match(/^\d{4}-\d{2}-\d{2} /m);
  });

  it('stops at start-up naming OPENSEARCH_USERNAME/OPENSEARCH_PASSWORD on a wrong password', async () => {
    const wrong = { ...good, OPENSEARCH_PASSWORD: 'not-the-password' };
    const msg = await startupFailure(wrong);
    expect(msg)
      .to.match(/401/)
      .and.match(/OPENSEARCH_USERNAME and OPENSEARCH_PASSWORD/);
    expect(msg).not.to.contain('not-the-password');
    // A script the same way: one line on stderr, exit 1, the password nowhere.
    const script = await runScript('setup', [], {
      ...good,
      OPENSEARCH_URL: nginx.url.replace('https://', `https://${NGINX_USER}:wrong-in-url@`),
      OPENSEARCH_USERNAME: '',
      OPENSEARCH_PASSWORD: '',
    });
    expect(script.code).to.equal(1);
    expect(script.stderr.trim().split('\n')).to.have.length(1);
    expect(script.stderr).to.match(/401.*OPENSEARCH_PASSWORD/);
    expect(script.stderr + script.stdout).not.to.contain('wrong-in-url');
  });

  it('stops at start-up naming OPENSEARCH_CA_CERT when the certificate cannot be verified', async () => {
    const { OPENSEARCH_CA_CERT: _ca, ...noCa } = good;
    const msg = await startupFailure(noCa);
    expect(msg)
      .to.match(/^TLS verification failed/)
      .and.match(/set OPENSEARCH_CA_CERT/);
    const script = await runScript('indices', [], noCa);
    expect(script.code).to.equal(1);
    expect(script.stderr).to.match(/TLS verification failed.*OPENSEARCH_CA_CERT/);
  });

  it('stops at start-up naming OPENSEARCH_URL when the host name is not the certificate’s', async () => {
    const msg = await startupFailure({ ...good, OPENSEARCH_URL: `https://127.0.0.1:${nginx.port}` });
    expect(msg)
      .to.match(/TLS verification failed/)
      .and.match(/does not name the host/);
    expect(msg).to.match(/set OPENSEARCH_URL/);
  });

  it('stops at start-up naming OPENSEARCH_URL when nothing answers', async () => {
    const msg = await startupFailure({ ...good, OPENSEARCH_URL: `https://localhost:${await freePort(0)}` });
    expect(msg).to.match(/^cannot reach OpenSearch at https:\/\/localhost:\d+: .*check OPENSEARCH_URL$/);
  });

  it('fails start-up clearly on a missing or unreadable CA file', async () => {
    expect(() =>
      testConfig({ ...good, OPENSEARCH_CA_CERT: path.join(os.tmpdir(), 'no-such-ca.pem') }),
    ).to.throw(/OPENSEARCH_CA_CERT: cannot read/);
  });

  it('connects with a client certificate where the endpoint requires one (mutual TLS)', async () => {
    const mtls = await startNginx('', { mutualTls: true });
    try {
      const env = { ...good, OPENSEARCH_URL: mtls.url, OPENSEARCH_CA_CERT: mtls.ca };
      const withCert = {
        ...env,
        OPENSEARCH_CLIENT_CERT: mtls.clientCert,
        OPENSEARCH_CLIENT_KEY: mtls.clientKey,
      };
      expect(await startupFailure(withCert)).to.equal(undefined);
      const setup = await runScript('setup', [], withCert);
      expect(setup.code, setup.stderr).to.equal(0);
      expect(await startupFailure(env)).to.match(/client certificate.*OPENSEARCH_CLIENT_CERT/);
    } finally {
      await mtls.stop();
    }
  });

  it('names the permission the user lacks on a 403', async () => {
    // A gateway policy refusing the index-template API, as a role without it would.
    const strict = await startNginx('location /_index_template/ { return 403; }');
    try {
      const msg = await startupFailure({
        ...good,
        OPENSEARCH_URL: strict.url,
        OPENSEARCH_CA_CERT: strict.ca,
      });
      expect(msg)
        .to.match(/403/)
        .and.match(/lacks the permission indices:admin\/index_template\/get/);
      expect(msg).to.match(/OPENSEARCH_USERNAME/);
    } finally {
      await strict.stop();
    }
  });
});

describe('SigV4: every request signed with the AWS default credentials', function () {
  this.timeout(120_000);
  let endpoint: SigV4Endpoint;
  const saved = { ...process.env };

  before(async () => {
    endpoint = await startSigV4Endpoint('es');
  });
  after(async () => {
    await endpoint?.stop();
  });
  afterEach(() => {
    for (const k of [
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
      'AWS_EC2_METADATA_DISABLED',
      'AWS_CONFIG_FILE',
    ]) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });

  /** The default credential chain reads the environment first; no instance metadata is asked. */
  function credentials(secret: string) {
    process.env.AWS_ACCESS_KEY_ID = AWS_TEST_CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = secret;
    process.env.AWS_EC2_METADATA_DISABLED = 'true';
    process.env.AWS_CONFIG_FILE = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'aws-')), 'none');
  }
  const env = () => ({
    AUDIT_LOGS_ENABLED: 'true',
    OPENSEARCH_URL: endpoint.url,
    OPENSEARCH_AWS_REGION: AWS_TEST_REGION,
  });

  it('works with the right credentials: ingest and read through the checking endpoint', async () => {
    credentials(AWS_TEST_CREDENTIALS.secretAccessKey);
    const refusedBefore = endpoint.refused;
    const service = await startService(testConfig(env()));
    try {
      const { ingest, read } = await orgWithKeys({ cfg: testConfig(env()), store: service.store });
      const posted = await postEvents(service.url, ingest, {
        id: 'evt-signed',
        action: 'workflow.created',
        resourceType: 'workflow',
        resourceName: 'Signed',
      });
      expect(posted.status, JSON.stringify(posted.body)).to.equal(201);
      expect((await readEvent(service.url, read, 'evt-signed')).status).to.equal(200);
    } finally {
      await service.close();
    }
    expect(endpoint.refused).to.equal(refusedBefore);
    expect(endpoint.accepted).to.be.greaterThan(10);
  });

  it('fails start-up clearly with wrong credentials', async () => {
    credentials('a-wrong-secret-key');
    const msg = await startupFailure(env());
    expect(msg)
      .to.match(/refused the request signature \(403/)
      .and.match(/AWS_SECRET_ACCESS_KEY/);
    expect(msg).not.to.contain('a-wrong-secret-key');
  });
});
