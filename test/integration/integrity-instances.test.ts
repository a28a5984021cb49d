/**
 * Several service instances, one chain: two instances ingest for one org at the same time, one is killed in
 * the middle (no lease handover, requests cut), and afterwards every acknowledged event is in exactly one
 * seal and the org verifies clean.
 */
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config.ts';
import { loadSigningKey } from '../../src/integrity/signing.ts';
import { verifyOrg } from '../../src/integrity/verify.ts';
import type { RunningService } from '../../src/server.ts';
import { seedIngestKey, seedOrg, startTestService, uniqueId } from '../helpers.ts';
import { integrityCtx, readSeals, testKey, unsealedCount } from '../fixtures/integrity.ts';

async function post(svc: RunningService, key: string, events: object[]): Promise<number> {
  const res = await fetch(`${svc.url}/api/v1/audit-logs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ events }),
  });
  await res.arrayBuffer();
  return res.status;
}

describe('integrity: two instances, one killed mid-way', function () {
  this.timeout(180_000);
  const ctx = integrityCtx();
  after(() => ctx.store.close());

  it('shares one generated signing key between instances that share AUDIT_STATE_DIR', () => {
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-shared-'));
    const a = loadSigningKey(loadConfig({ AUDIT_STATE_DIR: stateDir }));
    const b = loadSigningKey(loadConfig({ AUDIT_STATE_DIR: stateDir }));
    expect(a.keyId).to.equal(b.keyId);
    expect(fs.statSync(path.join(stateDir, 'signing-key.pem')).mode & 0o777).to.equal(0o600);
    const other = loadSigningKey(
      loadConfig({ AUDIT_STATE_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'audit-other-')) }),
    );
    expect(other.keyId).not.to.equal(a.keyId);
  });

  it('leaves no gap, no double-sealed event and a clean chain', async () => {
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-shared-'));
    const env = { AUDIT_STATE_DIR: stateDir, AUDIT_SEAL_INTERVAL_SECONDS: '1', AUDIT_LOGS_ENABLED: 'true' };
    const a = await startTestService(env);
    const b = await startTestService(env);
    const orgId = await seedOrg(ctx);
    const key = await seedIngestKey(ctx, orgId);
    const acked = new Set<string>();
    const failed: object[][] = [];

    // Each instance gets a producer sending batches of 20 for ~6 s; A is killed after ~3 s.
    const producer = async (svc: RunningService, name: string) => {
      for (let i = 0; i < 60; i++) {
        const events = Array.from({ length: 20 }, (_, k) => ({
          id: `${name}_${i}_${k}_${uniqueId('e')}`,
          action: 'workflow.updated',
          resourceType: 'workflow',
          description: `batch ${i} event ${k} via ${name}`,
        }));
        const status = await post(svc, key, events).catch(() => 0);
        if (status === 201) events.forEach((e) => acked.add(e.id));
        else failed.push(events); // not acknowledged: a producer retries elsewhere
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const killA = (async () => {
      await new Promise((r) => setTimeout(r, 3000));
      await a.kill();
    })();
    await Promise.all([producer(a, 'a'), producer(b, 'b'), killA]);
    // The producer retries what was not acknowledged on the surviving instance (ids make it idempotent).
    for (const events of failed) {
      expect(await post(b, key, events)).to.be.oneOf([201, 207]);
      events.forEach((e) => acked.add((e as { id: string }).id));
    }
    expect(failed.length, 'A was killed while producers were still sending').to.be.greaterThan(0);

    // B takes over the lease once A's expires and seals the rest.
    const deadline = Date.now() + 60_000;
    while ((await unsealedCount(ctx.store, orgId)) > 0) {
      expect(Date.now(), 'everything sealed within 60 s').to.be.lessThan(deadline);
      await new Promise((r) => setTimeout(r, 500));
    }
    await b.close();

    const seals = await readSeals(ctx.store, orgId);
    expect(seals.map((s) => s.seq)).to.deep.equal(seals.map((_, i) => i + 1)); // no gap
    const sealed = seals.flatMap((s) => s.eventIds);
    expect(new Set(sealed).size).to.equal(sealed.length); // no event in two seals
    const sealedSet = new Set(sealed);
    for (const id of acked) expect(sealedSet.has(id), `acknowledged ${id} is sealed`).to.equal(true);
    const report = await verifyOrg(ctx.store, { orgId, publicKey: testKey, lateGraceMs: 10 * 60_000 });
    expect(report.problems).to.deep.equal([]);
    expect(report.events.sealedChecked).to.equal(sealed.length);
    // Besides the producers' events, only the directory's own (org created, key created) are sealed.
    expect(sealed.filter((id) => !acked.has(id)).every((id) => id.startsWith('dir_'))).to.equal(true);
  });
});
