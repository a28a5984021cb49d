/**
 * `npx tsx scripts/bench-tree.ts`: the org tree at scale. Lays down an org's history of N leaves as seals of
 * 10,000 (what the sealer writes, signed, without the events behind them), builds the org's tree from them with
 * the sealer's own code (extendOrgTree, as for an org sealed before trees existed), seals real events on top,
 * then times inclusion proofs, consistency proofs and checkpoints through the HTTP API, and measures the bytes
 * the tree takes in OpenSearch per leaf.
 */
import crypto from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { buildApp } from '../src/app.ts';
import { intFlag, Progress, runCli, stringFlag, UsageError } from './lib/cli.ts';
import { loadConfig } from '../src/config.ts';
import { createApiKey } from '../src/directory/api-keys.ts';
import { putMember } from '../src/directory/members.ts';
import { putOrg } from '../src/directory/orgs.ts';
import { ingestEvents } from '../src/ingest/ingest.ts';
import { signCheckpoint, packSeal } from '../src/integrity/checkpoint.ts';
import { fixedKeys } from '../src/integrity/keyring.ts';
import { merkleRootOf } from '../src/integrity/merkle.ts';
import { extendOrgTree } from '../src/integrity/org-tree.ts';
import { Sealer, sealerOptions } from '../src/integrity/sealer/sealer.ts';
import { loadSigningKey } from '../src/integrity/signing.ts';
import { createSeal } from '../src/store/seal-store.ts';
import { INTERNAL } from '../src/store/names.ts';
import type { Store } from '../src/store/client.ts';
import { writeBenchResult } from './lib/bench/results.ts';
import { connectForScript } from './lib/connect.ts';

const HELP = `Usage: npx tsx scripts/bench-tree.ts [--leaves N] [--requests R] [--org <id>]

Writes N leaves (default 1000000; docs/benchmarks.md quotes 10000000) of a fresh org as signed seals of 10,000
random leaves, builds the org tree from them (extendOrgTree, timed), ingests and seals 1,000 real events on top,
then serves the API in-process and times R requests each (default 200, one at a time) of:
  GET /api/v1/audit-logs/:id/proof                 for random real events (inclusion proof at size ~N)
  GET /api/v1/audit-logs/integrity/consistency     from a random earlier checkpoint size to the newest
  GET /api/v1/audit-logs/integrity/checkpoint
and reports p50/p95, and the tree index's bytes on disk per leaf (after a refresh, flush and force merge).
--org times the requests again over an org an earlier run built (its id is printed), building nothing.

Only against a local, throw-away engine (the org and its seals stay):
  npm run engine -- start --instance treebench     (prints its URL)
  OPENSEARCH_URL=<that url> npx tsx scripts/bench-tree.ts`;

const SEAL = 10_000;

/** The ids of an org's real events (those bench-tree ingested on top of its history). */
async function realEvents(store: Store, orgId: string): Promise<string[]> {
  const res = await store.search({
    index: 'audit-logs-*',
    body: { size: 1000, query: { term: { orgId } }, _source: ['id'] },
  });
  const ids = (res.body as { hits: { hits: { _source: { id: string } }[] } }).hits.hits.map(
    (h) => h._source.id,
  );
  if (!ids.length) throw new UsageError(`org ${orgId} has no events: was it made by bench-tree?`);
  return ids;
}

const OPTIONS = {
  org: { type: 'string' },
  leaves: { type: 'string' },
  requests: { type: 'string' },
} as const;

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.floor(q * (xs.length - 1))]!;

runCli(HELP, { options: OPTIONS }, async (args) => {
  const leaves = intFlag(args, 'leaves', { default: 1_000_000, min: SEAL, max: 100_000_000 });
  const requests = intFlag(args, 'requests', { default: 200, max: 10_000 });
  const base = loadConfig();
  if (!base.opensearchUrl || !/^https?:\/\/(127\.0\.0\.1|localhost)(:\d+)?\/?$/.test(base.opensearchUrl))
    throw new UsageError(
      'set OPENSEARCH_URL to a local throw-away engine (http://127.0.0.1:<port>); see --help',
    );
  const cfg = { ...base, auditLogsEnabled: true, rateLimitPerMinute: 1_000_000, logLevel: 'warn' as const };
  const { store, close } = await connectForScript(cfg);
  const ctx = { cfg, store };
  const key = loadSigningKey(cfg);
  const server = buildApp(ctx).listen(0, '127.0.0.1');
  try {
    await new Promise<void>((resolve) => server.once('listening', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/audit-logs`;
    const reuse = stringFlag(args, 'org');
    const orgId = reuse ?? `bench_tree_${crypto.randomBytes(5).toString('hex')}`;
    if (!reuse) {
      await putOrg(ctx, orgId, { name: 'Tree benchmark', plan: 'enterprise' });
      await putMember(ctx, orgId, 'usr_auditor', { email: 'a@example.com', name: 'Auditor', role: 'owner' });
    }
    const { key: apiKey } = await createApiKey(ctx, orgId, { type: 'personal', userId: 'usr_auditor' });
    const { ids, buildSeconds } = reuse
      ? { ids: await realEvents(store, orgId), buildSeconds: undefined }
      : await build();
    async function build() {
      // The history: seals of random leaves, chained and signed as the sealer makes them. The sealer takes the
      // directory's events and the real ones after it.
      const laid = new Progress('seals', leaves);
      let prevSealHash: string | null = null;
      let seq = 0;
      const at = new Date(Date.now() - 3_600_000).toISOString();
      const storedHash = crypto.randomBytes(32);
      for (let done = 0; done < leaves; done += SEAL) {
        const batch = crypto.randomBytes(32 * SEAL);
        seq += 1;
        const cp = signCheckpoint(
          {
            orgId,
            seq,
            count: SEAL,
            firstAcceptedAt: at,
            lastAcceptedAt: at,
            root: merkleRootOf(batch).toString('hex'),
            prevSealHash,
            sealedAt: new Date().toISOString(),
          },
          key,
        );
        const eventIds = Array.from({ length: SEAL }, (_, k) => `hist_${seq}_${k}`);
        if (
          !(await createSeal(
            store,
            packSeal({
              ...cp,
              eventIds,
              leaves: batch,
              storedHashes: Buffer.concat(eventIds.map(() => storedHash)),
            }),
          ))
        )
          throw new Error(`seal ${seq} exists already`);
        prevSealHash = cp.sealHash;
        laid.tick(SEAL);
      }
      laid.finish();
      await store.indices.refresh({ index: INTERNAL.seals });

      const t0 = performance.now();
      const { head: built } = await extendOrgTree(store, fixedKeys(key), cfg.logOrigin, orgId);
      const buildSeconds = (performance.now() - t0) / 1000;
      console.log(`tree of ${built?.size} leaves built from ${seq} seals in ${buildSeconds.toFixed(1)} s`);

      // Real events on top, sealed by the sealer: their proofs are inclusion proofs in the big tree.
      const results = await ingestEvents(
        ctx,
        { boundOrgId: orgId },
        Array.from({ length: 1000 }, (_, i) => ({
          action: 'workflow.deployed',
          resourceType: 'workflow',
          resourceId: `wf_${i}`,
        })),
      );
      const ids = results.map((r) => r.id);
      await new Promise((r) => setTimeout(r, 50)); // accepted strictly before the sealer's cutoff
      const sealer = new Sealer(
        { store },
        key,
        { ...sealerOptions(1000), safetyMarginMs: 0 },
        () => undefined,
      );
      const sealed = await sealer.sealOrg(orgId);
      if (sealed.sealed.reduce((n, x) => n + x.count, 0) < ids.length)
        throw new Error('the real events were not sealed');
      await store.indices.refresh({ index: [INTERNAL.treeHeads, INTERNAL.tree] });
      return { ids, buildSeconds };
    }

    const get = async (path: string) => {
      const s = performance.now();
      const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${apiKey}` } });
      const body = await res.text();
      if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${body.slice(0, 200)}`);
      return { ms: performance.now() - s, body };
    };
    const newest = Number((await get('/integrity/checkpoint')).body.split('\n')[1]);
    const times = { proof: [] as number[], consistency: [] as number[], checkpoint: [] as number[] };
    for (let i = 0; i < requests; i++) {
      const proof = await get(`/${ids[crypto.randomInt(ids.length)]}/proof`);
      if (JSON.parse(proof.body).size !== newest)
        throw new Error('a proof against another size than the newest');
      times.proof.push(proof.ms);
      // Checkpoints exist at every seal boundary: a random one of them.
      const from = (1 + crypto.randomInt(Math.floor(leaves / SEAL))) * SEAL;
      times.consistency.push((await get(`/integrity/consistency?from=${from}&to=${newest}`)).ms);
      times.checkpoint.push((await get('/integrity/checkpoint')).ms);
    }

    await store.indices.flush({ index: INTERNAL.tree });
    await store.indices.forcemerge({ index: INTERNAL.tree, max_num_segments: 1 });
    // The merged-away segment files go once no searcher holds them and the next commit is made.
    await store.indices.refresh({ index: INTERNAL.tree });
    await store.indices.flush({ index: INTERNAL.tree, force: true });
    const stats = await store.indices.stats({ index: INTERNAL.tree, metric: 'store' });
    const bytes = (stats.body as { _all: { primaries: { store: { size_in_bytes: number } } } })._all.primaries
      .store.size_in_bytes;
    // The index may hold other orgs' tiles (another benchmark on the same engine): this org's share by count.
    const count = async (query: object) =>
      ((await store.count({ index: INTERNAL.tree, body: { query } })).body as { count: number }).count;
    const mine = await count({ term: { orgId } });
    const all = await count({ match_all: {} });
    const perLeaf = (bytes * (mine / all)) / newest;

    const row = (name: string, xs: number[]) => [
      name,
      quantile(xs, 0.5).toFixed(1),
      quantile(xs, 0.95).toFixed(1),
    ];
    console.log(`org ${orgId}: tree of ${newest} leaves; ${requests} requests each (ms):`);
    for (const [n, p50, p95] of [
      row('inclusion proof (GET /:id/proof)', times.proof),
      row('consistency proof', times.consistency),
      row('checkpoint', times.checkpoint),
    ])
      console.log(`  ${n!.padEnd(34)} p50 ${p50!.padStart(6)}  p95 ${p95!.padStart(6)}`);
    console.log(
      `tree index: ${(bytes / 1e6).toFixed(1)} MB on disk, ${mine} of its ${all} tiles this org's: ` +
        `${perLeaf.toFixed(1)} bytes per leaf`,
    );
    writeBenchResult(
      'tree',
      { leaves: newest, requests },
      {
        'inclusion proof p50': {
          value: Number(quantile(times.proof, 0.5).toFixed(1)),
          unit: 'ms',
          better: 'lower',
        },
        'consistency proof p50': {
          value: Number(quantile(times.consistency, 0.5).toFixed(1)),
          unit: 'ms',
          better: 'lower',
        },
        'tree bytes per leaf': { value: Number(perLeaf.toFixed(1)), unit: 'bytes', better: 'lower' },
        ...(buildSeconds === undefined
          ? {}
          : {
              'tree build from seals': { value: Number(buildSeconds.toFixed(1)), unit: 's', better: 'lower' },
            }),
      },
      times,
    );
  } finally {
    server.close();
    await close();
  }
});
