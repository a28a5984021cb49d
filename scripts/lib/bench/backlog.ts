/**
 * A sealed backlog for the streams benchmark, laid down fast: N events through the service's own write path
 * (ingestEvents: ledger + day index, batches of 1,000) in this process, with a sealer of this process sealing
 * them as a service instance does (from what its write path stored, every round), then the rest sealed at
 * once. The events are real and sealed as the service seals them, so a stream delivers them like any others.
 */
import type { Config } from '../../../src/config.ts';
import { putOrg } from '../../../src/directory/orgs.ts';
import { StoreUnavailable } from '../../../src/errors.ts';
import { ingestEvents } from '../../../src/ingest/ingest.ts';
import { Sealer, sealerOptions } from '../../../src/integrity/sealer/sealer.ts';
import { unsealedCount } from '../../../src/integrity/seals.ts';
import { loadSigningKey } from '../../../src/integrity/signing.ts';
import { Written } from '../../../src/integrity/written.ts';
import type { Store } from '../../../src/store/client.ts';
import { INTERNAL } from '../../../src/store/names.ts';
import { Progress } from '../cli.ts';

/** One synthetic event: an action, its resource and actor, a description and a little metadata. */
export function benchEvent(id: string, i: number): Record<string, unknown> {
  return {
    id,
    action: 'workflow.deployed',
    resourceType: 'workflow',
    resourceId: `wf_${i % 500}`,
    resourceName: `Workflow ${i % 500}`,
    description: `Deployed workflow wf_${i % 500}`,
    actorId: `usr_${i % 40}`,
    actorEmail: `user${i % 40}@example.com`,
    metadata: { n: i, environment: 'production' },
  };
}

/** How many entries the org's log holds (directory events included), after a refresh of the ledger. */
export async function orgEntries(store: Store, orgId: string): Promise<number> {
  await store.indices.refresh({ index: INTERNAL.ledger });
  const res = await store.count({ index: INTERNAL.ledger, body: { query: { term: { orgId } } } });
  return (res.body as { count: number }).count;
}

/** Creates `orgId` with `events` sealed events; resolves once every entry of the org is sealed. */
export async function seedSealedBacklog(
  cfg: Config,
  store: Store,
  orgId: string,
  events: number,
  concurrency = 4,
): Promise<{ seconds: number }> {
  const written = new Written();
  const ctx = { cfg: { ...cfg, sealing: true }, store, written };
  await putOrg(ctx, orgId, { name: 'Streams benchmark', plan: 'enterprise' });
  const opts = sealerOptions(cfg.sealIntervalMs);
  const sealer = new Sealer({ store, written }, loadSigningKey(cfg), opts, (m) => console.error(m));
  const progress = new Progress('backlog', events);
  const t0 = performance.now();
  let next = 0;
  let done = false;
  const producer = async () => {
    while (next < events) {
      const from = next;
      const n = Math.min(1000, events - from);
      next += n;
      const inputs = Array.from({ length: n }, (_, k) => benchEvent(`bk_${from + k}`, from + k));
      // As a client would: a batch the service answered 503 (OpenSearch too slow) is sent again; its events
      // already stored are then answered `duplicate`.
      for (let attempt = 1; ; attempt++) {
        try {
          const results = await ingestEvents(ctx, { boundOrgId: orgId }, inputs);
          const bad = results.find((r) => r.status !== 'created' && r.status !== 'duplicate');
          if (bad) throw new Error(`ingest refused a backlog event: ${JSON.stringify(bad)}`);
          break;
        } catch (err) {
          if (!(err instanceof StoreUnavailable) || attempt >= 10) throw err;
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
      progress.tick(n);
    }
  };
  // The sealer's rounds as in the service, while the producers write.
  const sealing = (async () => {
    while (!done) {
      await new Promise((r) => setTimeout(r, opts.periodMs));
      if (!done) await sealer.round();
    }
  })();
  try {
    await Promise.all(Array.from({ length: concurrency }, producer));
  } finally {
    done = true;
    await sealing;
  }
  // The rest at once (writes have stopped: no safety margin needed).
  await new Promise((r) => setTimeout(r, 50));
  const cutoff = new Date().toISOString();
  for (let n = await unsealedCount(store, orgId); n > 0; n = await unsealedCount(store, orgId)) {
    const r = await sealer.sealOrg(orgId, cutoff);
    if (r.sealed.length === 0 && !r.leftBehind)
      throw new Error(`org ${orgId}: ${n} entries cannot be sealed`);
  }
  await sealer.stop();
  progress.finish();
  return { seconds: (performance.now() - t0) / 1000 };
}
