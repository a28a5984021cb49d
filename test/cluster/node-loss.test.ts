/**
 * Node loss on the 3-node test cluster (npm run test:cluster) with one replica of every index: a data node
 * killed with SIGKILL while producers ingest, and the node holding the primary of the sealer's lease document
 * killed. Nothing acknowledged is lost or doubled, reads answer while the cluster is yellow, the sealer goes
 * on, and verify stays clean. The counts are printed for the report.
 */
import { expect } from 'chai';
import { loadConfig } from '../../src/config.ts';
import { LocalCluster } from '../../scripts/lib/engine/cluster.ts';
import { sealerOptions } from '../../src/integrity/sealer/sealer.ts';
import { iterateSeals, unsealedCount } from '../../src/integrity/seals.ts';
import { publicKeyFromPem } from '../../src/integrity/signing.ts';
import { verifyOrg } from '../../src/integrity/verify.ts';
import { startService, type RunningService } from '../../src/server.ts';
import { allBuckets, type Store } from '../../src/store/client.ts';
import { AUDIT_INDEX_PATTERN, INTERNAL } from '../../src/store/names.ts';
import { TEST_SIGNING_KEY_PEM, testConfig, testStore } from '../helpers.ts';
import { orgWithKeys } from '../fixtures/cluster.ts';

const SEAL_INTERVAL_S = 3;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The node (0-based, by its name `node-N`) holding the primary of `index`'s shard 0. */
async function primaryNodeOf(store: Store, index: string): Promise<number> {
  const res = await store.cat.shards({ index, format: 'json', h: 'index,shard,prirep,state,node' } as never);
  const primary = (res.body as unknown as { prirep: string; node: string; shard: string }[]).find(
    (s) => s.prirep === 'p' && s.shard === '0',
  );
  if (!primary) throw new Error(`no primary of ${index}`);
  return Number(/node-(\d+)/.exec(primary.node)![1]) - 1;
}

async function waitForHealth(store: Store, status: 'green' | 'yellow', nodes?: number): Promise<string> {
  const res = await store.cluster.health({
    wait_for_status: status,
    ...(nodes ? { wait_for_nodes: String(nodes) } : {}),
    timeout: '120s',
  } as never);
  if (res.body.timed_out) throw new Error(`cluster not ${status} within 120 s: ${JSON.stringify(res.body)}`);
  return res.body.status;
}

/**
 * A producer posting events with known ids one by one, each until acknowledged (201, or 207 "duplicate":
 * an earlier attempt went through), retrying on 503 and connection errors; stops when `stop()` says so.
 */
async function produce(
  url: string,
  key: string,
  prefix: string,
  stop: () => boolean,
  acked: Map<string, number>,
  stats: { retries: number; unexpected: number },
): Promise<void> {
  for (let n = 0; !stop(); n++) {
    const id = `${prefix}-${n}`;
    for (;;) {
      const res = await fetch(`${url}/api/v1/audit-logs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ id, action: 'workflow.created', resourceType: 'workflow', resourceName: id }),
      }).catch(() => undefined);
      const body = res ? ((await res.json().catch(() => ({}))) as { results?: { status: string }[] }) : {};
      const status = body.results?.[0]?.status;
      if (res?.status === 201 || (res?.status === 207 && status === 'duplicate')) {
        acked.set(id, Date.now());
        break;
      }
      if (res && res.status !== 503) {
        stats.unexpected++;
        if (stats.unexpected <= 3)
          console.log(`      unexpected answer ${res.status}: ${JSON.stringify(body)}`);
      }
      stats.retries++;
      await sleep(200);
    }
  }
}

describe('node loss on a 3-node cluster with one replica', function () {
  this.timeout(600_000);
  let cluster: LocalCluster;
  let store: Store;
  let service: RunningService;
  let org: { orgId: string; ingest: string; read: string };
  const env = {
    AUDIT_LOGS_ENABLED: 'true',
    AUDIT_INDEX_REPLICAS: '1',
    AUDIT_SEAL_INTERVAL_SECONDS: String(SEAL_INTERVAL_S),
    AUDIT_RATE_LIMIT_PER_MINUTE: '100000', // four producers retrying in a loop: not what this test is about
  };

  before(async function () {
    const instance = process.env.AUDIT_TEST_CLUSTER;
    if (!instance) this.skip(); // needs the cluster of npm run test:cluster
    cluster = new LocalCluster(loadConfig().engine, { instance });
    store = testStore();
    // What docs/deploying.md tells an operator to run on an existing deployment: a replica for what exists.
    await store.indices.putSettings({
      index: `${AUDIT_INDEX_PATTERN},audit-internal-*`,
      allow_no_indices: true,
      body: { 'index.number_of_replicas': 1 },
    } as never);
    service = await startService(testConfig(env));
    org = await orgWithKeys({ cfg: testConfig(env), store: service.store });
    await waitForHealth(store, 'green', 3);
  });
  after(async () => {
    await service?.close();
    await store?.close();
  });

  it('keeps every acknowledged event exactly once through a SIGKILLed and restarted data node', async () => {
    const acked = new Map<string, number>();
    const stats = { retries: 0, unexpected: 0 };
    let done = false;
    const producers = [0, 1, 2, 3].map((p) =>
      produce(service.url, org.ingest, `p${p}`, () => done, acked, stats),
    );
    await sleep(5_000);
    const victim = await primaryNodeOf(store, INTERNAL.ledger);
    const killedAt = Date.now();
    await cluster.killNode(victim);
    console.log(`      killed node-${victim + 1} (primary of the ledger) after ${acked.size} events`);

    // Reads answer while the cluster is yellow.
    expect(await waitForHealth(store, 'yellow', 2)).to.equal('yellow');
    const reads: number[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await fetch(`${service.url}/api/v1/audit-logs?limit=5`, {
        headers: { authorization: `Bearer ${org.read}` },
      });
      reads.push(res.status);
    }
    expect(
      reads.every((s) => s === 200),
      `reads while yellow: ${reads.join(',')}`,
    ).to.equal(true);
    const ackedWhileDown = () => [...acked.values()].filter((t) => t > killedAt).length;
    await sleep(5_000);
    await cluster.startNode(victim);
    const restartedAt = Date.now();
    console.log(`      node-${victim + 1} rejoined after ${((restartedAt - killedAt) / 1000).toFixed(1)} s`);
    await sleep(3_000);
    done = true;
    await Promise.all(producers);
    await waitForHealth(store, 'green', 3);

    // The sealer kept or resumed sealing: everything acknowledged gets sealed.
    const sealedWhileDown = await sealsBetween(store, org.orgId, killedAt, restartedAt);
    const deadline = Date.now() + 60_000;
    let pending = await unsealedCount(store, org.orgId);
    while (pending > 0 && Date.now() < deadline) {
      await sleep(1_000);
      pending = await unsealedCount(store, org.orgId);
    }

    const present = await eventCounts(store, org.orgId);
    const ids = [...acked.keys()];
    const found = ids.filter((id) => present.has(id)).length;
    const duplicates = [...present.values()].filter((c) => c > 1).length;
    // The directory's own events of the org (its member and keys) are stored too; ours have a producer's prefix.
    const ours = [...present.keys()].filter((id) => /^p\d-\d+$/.test(id));
    console.log(
      `      acknowledged ${ids.length} (${ackedWhileDown()} while the node was down), present ${found}, ` +
        `duplicates ${duplicates}, stored ${ours.length}, retries ${stats.retries}, unexpected answers ` +
        `${stats.unexpected}, seals made while down ${sealedWhileDown}, unsealed at the end ${pending}`,
    );
    expect(ids.length).to.be.greaterThan(20);
    expect(found).to.equal(ids.length);
    expect(duplicates).to.equal(0);
    expect(ours.length).to.equal(ids.length); // nothing stored that was never acknowledged
    expect(stats.unexpected).to.equal(0);
    expect(pending).to.equal(0);

    const report = await verifyOrg(store, {
      orgId: org.orgId,
      publicKey: publicKeyFromPem(TEST_SIGNING_KEY_PEM),
      lateGraceMs: sealerOptions(SEAL_INTERVAL_S * 1000).lateGraceMs,
    });
    expect(report.problems, JSON.stringify(report.problems.slice(0, 3))).to.deep.equal([]);
    expect(report.clean).to.equal(true);
  });

  it('resumes sealing within two intervals when the lease document’s primary node dies', async () => {
    const acked = new Map<string, number>();
    const stats = { retries: 0, unexpected: 0 };
    let done = false;
    const producer = produce(service.url, org.ingest, 'lease', () => done, acked, stats);
    await sleep(2 * SEAL_INTERVAL_S * 1000);
    const victim = await primaryNodeOf(store, INTERNAL.service);
    const killedAt = Date.now();
    await cluster.killNode(victim);
    // The first event acknowledged after the kill, and the seal that holds it: an event normally waits about
    // one interval for its seal; across the lost lease primary it may wait at most two.
    let first: [id: string, ackedAt: number] | undefined;
    let sealedAt: number | undefined;
    const deadline = killedAt + 20 * SEAL_INTERVAL_S * 1000;
    while (!sealedAt && Date.now() < deadline) {
      await sleep(250);
      first ??= [...acked].find(([, t]) => t > killedAt);
      if (first) sealedAt = await sealTimeOf(store, org.orgId, first[0]).catch(() => undefined);
    }
    done = true;
    await producer;
    const s = (ms?: number) => (ms === undefined ? 'never' : `${(ms / 1000).toFixed(1)} s`);
    const waited = first && sealedAt ? sealedAt - first[1] : undefined;
    console.log(
      `      killed node-${victim + 1} (primary of the lease document); the first event acknowledged after it ` +
        `(at +${s(first && first[1] - killedAt)}) was sealed ${s(waited)} later, +${s(sealedAt && sealedAt - killedAt)} ` +
        `after the kill (interval ${SEAL_INTERVAL_S} s)`,
    );
    await cluster.startNode(victim);
    await waitForHealth(store, 'green', 3);
    expect(waited, 'the event acknowledged after the kill was never sealed').to.be.a('number');
    expect(waited!).to.be.at.most(2 * SEAL_INTERVAL_S * 1000);
  });
});

/** How many seals of the org were made between two moments. */
async function sealsBetween(store: Store, orgId: string, from: number, to: number): Promise<number> {
  await store.indices.refresh({ index: INTERNAL.seals });
  let n = 0;
  for await (const s of iterateSeals(store, orgId)) {
    const t = Date.parse(s.sealedAt);
    if (t >= from && t <= to) n++;
  }
  return n;
}

/** When the seal holding event `id` was made, or undefined while none does. */
async function sealTimeOf(store: Store, orgId: string, id: string): Promise<number | undefined> {
  await store.indices.refresh({ index: INTERNAL.seals });
  for await (const seal of iterateSeals(store, orgId, { withLists: true })) {
    if (seal.eventIds.includes(id)) return Date.parse(seal.sealedAt);
  }
  return undefined;
}

/** Each stored event id of the org with its number of copies across the day indices. */
async function eventCounts(store: Store, orgId: string): Promise<Map<string, number>> {
  await store.indices.refresh({ index: AUDIT_INDEX_PATTERN });
  const buckets = await allBuckets<{ key: Record<string, string>; doc_count: number }>(
    store,
    AUDIT_INDEX_PATTERN,
    'id',
    { term: { orgId } },
  );
  return new Map(buckets.map((b) => [b.key.id!, b.doc_count]));
}
