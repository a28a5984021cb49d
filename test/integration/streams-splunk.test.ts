/**
 * A Splunk HEC stream made through the API is delivered by the service's own loop, with indexer
 * acknowledgement, to the HEC contract stand-in (test/receivers/splunk-hec-stand-in.ts) over TLS with the
 * stream's own CA: the API, the registry and the destination fit together.
 */
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeCertificates } from '../fixtures/cluster.ts';
import { createOrg, ingest, startReadService, type ReadService, type TestOrg } from '../fixtures/read.ts';
import { expectedEntries, waitFor } from '../fixtures/streams.ts';
import { SplunkHecStandIn } from '../receivers/splunk-hec-stand-in.ts';

describe('Splunk HEC streams: delivered by the loop', function () {
  this.timeout(120_000);
  let svc: ReadService;
  let org: TestOrg;
  let hec: SplunkHecStandIn;
  let streamId: string | undefined;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'streams-splunk-'));

  before(async () => {
    const files = makeCertificates(dir);
    hec = await SplunkHecStandIn.start(files, { token: 'hec-token-0001', ack: true, ackDelayMs: 200 });
    svc = await startReadService({
      AUDIT_STREAM_ALLOW_PRIVATE: 'true',
      AUDIT_STREAM_POLL_SECONDS: '0.2',
      AUDIT_SEAL_INTERVAL_SECONDS: '1',
    });
    org = await createOrg(svc.ctx);
    const res = await fetch(`${svc.url}/api/v1/audit-logs/streams`, {
      method: 'POST',
      headers: { authorization: `Bearer ${org.keys.owner}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        type: 'splunk_hec',
        name: 'splunk',
        settings: { url: hec.url, token: 'hec-token-0001', ack: true, ca: fs.readFileSync(files.ca, 'utf8') },
      }),
    });
    const body = (await res.json()) as { id: string };
    expect(res.status, JSON.stringify(body)).to.equal(201);
    streamId = body.id;
  });
  after(async () => {
    if (streamId) {
      await fetch(`${svc.url}/api/v1/audit-logs/streams/${streamId}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${org.keys.owner}` },
      });
    }
    await svc?.close();
    await hec?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('delivers every entry once acknowledged, in stream order', async () => {
    await ingest(
      svc.ctx,
      org.orgId,
      Array.from({ length: 300 }, (_, i) => ({
        id: `hec_${i}`,
        action: 'workflow.created',
        resourceType: 'workflow',
      })),
    );
    const expected = (await expectedEntries(svc.ctx, org.orgId)).map((e) => e.id);
    const ids = () => [...new Set(hec.received.map((r) => (r.envelope.event as { id: string }).id))];
    await waitFor('every entry at HEC', () => ids().length >= expected.length, 60_000);
    expect(ids()).to.deep.equal(expected);
    const s = await waitFor('the cursor', async () => {
      const res = await fetch(`${svc.url}/api/v1/audit-logs/streams/${streamId}`, {
        headers: { authorization: `Bearer ${org.keys.owner}` },
      });
      const s = (await res.json()) as { delivered: number; lastError: string | null };
      return s.delivered >= expected.length && s;
    });
    expect(s.lastError).to.equal(null);
  });
});
