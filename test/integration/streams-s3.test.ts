/**
 * S3 delivery end to end against S3Proxy (a real S3-compatible server, test/fixtures/s3proxy.ts): the objects
 * are read back with the AWS SDK, and together they hold every entry of the org once, each object a run of the
 * stream in order, under `<prefix>/<orgId>/YYYY/MM/DD/HH/<first id>-<last id>.ndjson.gz`.
 */
import { expect } from 'chai';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { AuditEntry } from '../../src/events/schema.ts';
import { createOrg, ingest, startReadService, type ReadService, type TestOrg } from '../fixtures/read.ts';
import { startS3Proxy, type S3Proxy } from '../fixtures/s3proxy.ts';
import { expectedEntries, streamsApi, waitFor } from '../fixtures/streams.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const gunzip = promisify(zlib.gunzip);

describe('S3 streams: delivery to S3Proxy', function () {
  this.timeout(180_000);
  let s3: S3Proxy;
  let svc: ReadService;
  let org: TestOrg;
  const ids: string[] = [];

  const api = (method: string, path: string, body?: unknown) =>
    streamsApi(svc.url, method, path, org.keys.owner, body);

  const settings = (extra: Json = {}) => ({
    endpoint: s3.endpoint,
    region: s3.region,
    bucket: 'audit-archive',
    prefix: 'audit/logs',
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
    forcePathStyle: true,
    ...extra,
  });

  before(async () => {
    s3 = await startS3Proxy();
    await s3.createBucket('audit-archive');
    svc = await startReadService({
      AUDIT_STREAM_ALLOW_PRIVATE: 'true',
      AUDIT_STREAM_POLL_SECONDS: '0.2',
      AUDIT_STREAM_MAX_BACKOFF_SECONDS: '1',
      AUDIT_SEAL_INTERVAL_SECONDS: '1',
    });
    org = await createOrg(svc.ctx);
  });
  after(async () => {
    for (const id of ids) await api('DELETE', `/${id}`);
    await svc?.close();
    await s3?.stop();
  });

  it('writes every entry once, in gzip NDJSON objects keyed by org, hour and first-last id', async () => {
    const created = await api('POST', '', { type: 's3', name: 'archive', settings: settings() });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    ids.push(created.body.id);
    await ingest(
      svc.ctx,
      org.orgId,
      Array.from({ length: 6000 }, (_, i) => ({
        id: `s3_${String(i).padStart(5, '0')}`,
        action: 'workflow.created',
        resourceType: 'workflow',
      })),
    );
    const expected = (await expectedEntries(svc.ctx, org.orgId)).map((e) => e.id);
    await waitFor(
      'the cursor past every entry',
      async () => (await api('GET', `/${created.body.id}`)).body.delivered >= expected.length,
      90_000,
    );

    const listed = await s3.client.send(
      new ListObjectsV2Command({ Bucket: 'audit-archive', Prefix: `audit/logs/${org.orgId}/` }),
    );
    const objects: { key: string; entries: AuditEntry[] }[] = [];
    // The filesystem backend lists its folders too (as keys ending in "/"): they are not objects we wrote.
    for (const o of (listed.Contents ?? []).filter((c) => !c.Key!.endsWith('/'))) {
      const got = await s3.client.send(new GetObjectCommand({ Bucket: 'audit-archive', Key: o.Key! }));
      const text = (await gunzip(Buffer.from(await got.Body!.transformToByteArray()))).toString('utf8');
      objects.push({
        key: o.Key!,
        entries: text
          .trimEnd()
          .split('\n')
          .map((l) => JSON.parse(l) as AuditEntry),
      });
    }
    expect(objects.length).to.be.at.least(3); // 6,000 entries, at most 2,000 an object
    for (const o of objects) {
      const first = o.entries[0]!;
      const last = o.entries[o.entries.length - 1]!;
      const at = first.createdAt;
      const hour = `${at.slice(0, 4)}/${at.slice(5, 7)}/${at.slice(8, 10)}/${at.slice(11, 13)}`;
      expect(o.key).to.equal(`audit/logs/${org.orgId}/${hour}/${first.id}-${last.id}.ndjson.gz`);
    }
    // Each object is a run of the stream; in stream order they are the whole stream, nothing twice.
    objects.sort((a, b) => expected.indexOf(a.entries[0]!.id) - expected.indexOf(b.entries[0]!.id));
    expect(objects.flatMap((o) => o.entries.map((e) => e.id))).to.deep.equal(expected);
  });

  it('a refused secret key makes the stream failing, naming the 403', async () => {
    const created = await api('POST', '', {
      type: 's3',
      name: 'wrong key',
      settings: settings({ secretAccessKey: 'not-the-secret-key' }),
    });
    ids.push(created.body.id);
    const failing = await waitFor('status failing', async () => {
      const s = (await api('GET', `/${created.body.id}`)).body;
      return s.status === 'failing' && s;
    });
    expect(failing.lastError).to.match(
      /S3 bucket audit-archive answered 403 .*\(the credentials were refused\)/,
    );
    expect(failing.delivered).to.equal(0);
  });
});
