/**
 * `npx tsx scripts/bench-seal.ts`: what sealing costs ingest. Alternates timed phases of ingest with the sealer
 * off and on (off, on, on, off, …), each for a fresh org, and reports events/s per phase and on/off.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { formatTable, intFlag, runCli, UsageError } from './lib/cli.ts';
import { loadConfig } from '../src/config.ts';
import { putOrg } from '../src/directory/orgs.ts';
import { ingestEvents } from '../src/ingest/ingest.ts';
import { Sealer, sealerOptions } from '../src/integrity/sealer/sealer.ts';
import { Written } from '../src/integrity/written.ts';
import { fixedKeys } from '../src/integrity/keyring.ts';
import { logVerifierKey, servedNote } from '../src/integrity/org-tree.ts';
import { Witnessing } from '../src/integrity/witnessing.ts';
import { startWitness } from './lib/witness-process.ts';
import { loadSigningKey } from '../src/integrity/signing.ts';
import { verifyOrg } from '../src/integrity/verify.ts';
import { leafAndJsonOf } from '../src/integrity/event-hash.ts';
import { checkEvent } from '../src/ingest/validate.ts';
import { newSalt } from '../src/integrity/leaf.ts';
import type { StoredEvent } from '../src/events/schema.ts';
import { unsealedCount } from '../src/integrity/seals.ts';
import { writeBenchResult } from './lib/bench/results.ts';
import { connectForScript } from './lib/connect.ts';
import { AUDIT_INDEX_PATTERN, INTERNAL } from '../src/store/names.ts';
import { engineCpuSeconds } from './lib/bench/cpu.ts';

const HELP = `Usage: npx tsx scripts/bench-seal.ts [--seconds S] [--rounds R] [--concurrency C] [--batch B]
                                  [--interval I] [--witness-interval W] [--no-witness] [--no-verify]

Measures ingest throughput (ingestEvents: ledger + day index, the function POST /api/v1/audit-logs uses)
with the sealer off and on. Runs an untimed warm-up phase, then R rounds (default 3) of two phases,
"off" then "on" in odd rounds and "on" then "off" in even ones (so a drift in speed over the run, e.g. the
engine still warming up, weighs on both alike), S seconds each (default 30), C producers (default 4)
sending batches of B events (default 1000). In "on" phases a Sealer
runs in the same process with a seal interval of I seconds (default AUDIT_SEAL_INTERVAL_SECONDS), and the
write path hands it what it stored, as one service instance does (integrity/written.ts). A phase ends
when all its events are sealed ("on") and the engine has settled its writes (a refresh of the indices written,
then no merge running): a phase's events/s = events / (ingest seconds + seconds until all of them are sealed +
seconds until settled), and its CPU is counted until then. After each phase everything is sealed (untimed for
"off", nothing is left for "on"), so each phase starts without a backlog. Before each phase, untimed, the
engine settles again, and the "on" sealer has its first round and leads (as in a service that has been
running for a while). "On" also runs witnessing as the service does: a witness of its own (npm run witness,
a separate process) is sent the newest checkpoint of the phase's org every W seconds (default 1, the
service's default is 60) with its consistency proof; --no-witness leaves it out. Finally the last "on" org
is verified (skip with --no-verify).
Prints a table, on/off = mean(on events/s) / mean(off events/s), and the CPU time per event of this process
and of the engine in each phase: off/on of those is what on/off would be if CPU were the only limit, and
varies less from run to run (events/s follows whatever else the machine does, e.g. a large merge), and
where the engine's time went, per event and index (the day indices, the ledger, the seals): indexing with
refresh and flush, and merging.
"Off" is what AUDIT_SEALING=false runs: no sealer, and ingest computes no leaves (so the cost of sealing
includes the leaf each event gets at ingest, which the script also reports per event, measured on its own: what
it adds to the JSON.stringify that sealing off makes too).

Only against a local, throw-away engine (127.0.0.1 / localhost): the events stay (day indices refuse
deletes), and another service's sealer on the same cluster would seal during "off" phases too:
  npm run engine -- start --instance sealbench     (prints its URL)
  OPENSEARCH_URL=<that url> npx tsx scripts/bench-seal.ts`;

/**
 * CPU time per event of what ingest adds with sealing on: leafAndJsonOf (the leaf, storedHash and JSON) less the
 * JSON.stringify ingest does with sealing off, on events as validation makes them (best of three passes).
 */
function leafMicros(): number {
  const now = new Date();
  const acceptedAt = new Date(now.getTime() + 3).toISOString();
  const docs = Array.from({ length: 20_000 }, (_, i) => {
    const input = {
      action: 'workflow.deployed',
      resourceType: 'workflow',
      resourceId: `wf_${i}`,
      metadata: { n: i },
    };
    const checked = checkEvent(input, { boundOrgId: 'bench_seal_leaf', now, sealAfterDays: 7 });
    if (!checked.ok) throw new Error(checked.error);
    return { ...checked.doc, acceptedAt, salt: newSalt() };
  });
  const pass = (fn: (doc: StoredEvent) => unknown) => {
    const t0 = performance.now();
    for (const d of docs) fn(d);
    return ((performance.now() - t0) * 1000) / docs.length;
  };
  let best = Infinity;
  for (let p = 0; p < 3; p++) best = Math.min(best, pass(leafAndJsonOf) - pass((d) => JSON.stringify(d)));
  return best;
}

const OPTIONS = {
  seconds: { type: 'string' },
  rounds: { type: 'string' },
  concurrency: { type: 'string' },
  batch: { type: 'string' },
  interval: { type: 'string' },
  'no-verify': { type: 'boolean' },
  'no-witness': { type: 'boolean' },
  'witness-interval': { type: 'string' },
} as const;

runCli(HELP, { options: OPTIONS }, async (args) => {
  const seconds = intFlag(args, 'seconds', { default: 30, max: 600 });
  const rounds = intFlag(args, 'rounds', { default: 3, max: 10 });
  const concurrency = intFlag(args, 'concurrency', { default: 4, max: 32 });
  const batch = intFlag(args, 'batch', { default: 1000, max: 1000 });
  const cfg = loadConfig();
  const intervalMs = intFlag(args, 'interval', { default: cfg.sealIntervalMs / 1000, max: 3600 }) * 1000;
  if (!cfg.opensearchUrl || !/^https?:\/\/(127\.0\.0\.1|localhost)(:\d+)?\/?$/.test(cfg.opensearchUrl)) {
    throw new UsageError(
      'set OPENSEARCH_URL to a local throw-away engine (http://127.0.0.1:<port>); see --help',
    );
  }
  const { store, close } = await connectForScript(cfg);
  const ctx = { cfg, store };
  const key = loadSigningKey(cfg);
  const opts = sealerOptions(intervalMs);
  const witnessIntervalMs = intFlag(args, 'witness-interval', { default: 1, max: 3600 }) * 1000;
  const witness = args['no-witness']
    ? undefined
    : await startWitness(
        fs.mkdtempSync(path.join(os.tmpdir(), 'bench-witness-')),
        logVerifierKey(key, cfg.logOrigin, 'bench'),
      );
  // Catch-up seals org by org without the lease, so the timed sealer of the next "on" phase can take it.
  const sealEverything = async () => {
    const catchUp = new Sealer({ store }, key, { ...opts, safetyMarginMs: 0 }, () => undefined);
    await store.indices.refresh({ index: INTERNAL.ledger });
    for (const orgId of await catchUp.pendingOrgs()) await sealOrgNow(catchUp, orgId);
  };
  // Everything the org's ledger holds, sealed by `sealer` (writes have stopped: no safety margin is needed), and
  // appended to the org's tree, which takes a long run of seals a part per round: a phase pays for its own tree.
  const sealOrgNow = async (sealer: Sealer, orgId: string) => {
    await store.indices.refresh({ index: INTERNAL.ledger });
    const cutoff = new Date().toISOString();
    for (let n = await unsealedCount(store, orgId), tree = true; n > 0 || tree;) {
      const r = await sealer.sealOrg(orgId, cutoff);
      if (n > 0 && r.sealed.length === 0 && !r.leftBehind)
        throw new Error(`org ${orgId}: ${n} entries cannot be sealed`);
      tree = r.treeCatchingUp === true;
      n = await unsealedCount(store, orgId);
    }
  };

  // What the engine still holds in memory of the writes so far becomes segments (a refresh of every index the
  // phases write: the ledger has no refresh interval, so with sealing off it is refreshed by nobody else), and
  // the merges that causes, or that were running, end: until two readings 0.5 s apart show none (at most a minute).
  const settle = async () => {
    await store.indices.refresh({ index: [AUDIT_INDEX_PATTERN, INTERNAL.ledger, INTERNAL.seals] });
    for (let waited = 0, quiet = 0; waited < 60_000 && quiet < 2; waited += 500) {
      const res = await store.nodes.stats({ metric: ['indices'], index_metric: ['merge'] } as never);
      const nodes = Object.values(
        (res.body as { nodes: Record<string, { indices: { merges: { current: number } } }> }).nodes,
      );
      quiet = nodes.every((n) => n.indices.merges.current === 0) ? quiet + 1 : 0;
      if (quiet < 2) await new Promise((resolve) => setTimeout(resolve, 500));
    }
  };

  // CPU time used so far, in µs: this process (ingest and sealer) and the engine (all its nodes).
  const cpuNow = async () => {
    const engine = (await engineCpuSeconds(store)) * 1e6;
    const { user, system } = process.cpuUsage();
    return { node: user + system, engine };
  };

  // Where the engine's time goes, per index: ms its threads spent indexing (with refresh and flush) and merging.
  const INDICES = { events: AUDIT_INDEX_PATTERN, ledger: INTERNAL.ledger, seals: INTERNAL.seals };
  type Work = Record<keyof typeof INDICES, { write: number; merge: number }>;
  const engineWork = async (): Promise<Work> => {
    type Stats = {
      indexing: { index_time_in_millis: number };
      refresh: { total_time_in_millis: number };
      flush: { total_time_in_millis: number };
      merges: { total_time_in_millis: number; total_throttled_time_in_millis: number };
    };
    const out = {} as Work;
    for (const [name, index] of Object.entries(INDICES) as [keyof Work, string][]) {
      const res = await store.indices.stats({
        index,
        metric: ['indexing', 'refresh', 'flush', 'merge'],
      } as never);
      const t = (res.body as { _all: { primaries?: Stats } })._all.primaries;
      out[name] = t
        ? {
            write:
              t.indexing.index_time_in_millis + t.refresh.total_time_in_millis + t.flush.total_time_in_millis,
            merge: t.merges.total_time_in_millis - t.merges.total_throttled_time_in_millis,
          }
        : { write: 0, merge: 0 };
    }
    return out;
  };

  const rows: {
    phase: 'warm-up' | 'off' | 'on';
    orgId: string;
    events: number;
    secs: number;
    lagEvents?: number;
    drainSecs?: number;
    /** Seconds until the engine settled the phase's writes (refresh, merges). */
    settleSecs: number;
    /** CPU µs per event from the phase's start until all its events are ingested (and sealed, for "on") and settled. */
    nodeCpu: number;
    engineCpu: number;
    /** Engine thread µs per event by index, from the phase's start to its end (merges count when they end). */
    work: Work;
  }[] = [];
  try {
    await sealEverything();
    // An untimed warm-up phase first (JIT, engine caches, index creation), then off/on alternately.
    const phases = [
      'warm-up' as const,
      ...Array.from({ length: rounds }, (_, r) =>
        r % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const),
      ).flat(),
    ];
    for (const phase of phases) {
      const orgId = `bench_seal_${crypto.randomBytes(5).toString('hex')}`;
      await putOrg(ctx, orgId, { name: 'Seal benchmark', plan: 'enterprise' });
      // As in the service: the write path hands what it stored to the sealer of the same process.
      const written = phase === 'off' ? undefined : new Written();
      const sealer = phase === 'on' ? new Sealer({ store, written }, key, opts) : undefined;
      // With the sealer, witnessing as the service runs it: every interval, the newest checkpoint of each org
      // with new seals goes to a witness (its own process), with a consistency proof.
      const witnessing =
        sealer && witness
          ? new Witnessing(
              store,
              (head) => servedNote(head, fixedKeys(key), cfg.logOrigin),
              [{ url: witness.url, verifierKey: witness.vkey }],
              witnessIntervalMs,
              (m) => console.error(m),
            )
          : undefined;
      // "off" is the service with AUDIT_SEALING=false: no sealer, and no leaf computed at ingest.
      const phaseCtx = { cfg: { ...cfg, sealing: phase !== 'off' }, store, written };
      // Untimed: the engine settles what came before (the catch-up sealing after an "off" phase), and the sealer
      // has had its first round (which looks at every org once, as a service's does when it starts) and leads,
      // as in a service that has been running for a while.
      await settle();
      await sealer?.round();
      witnessing?.start();
      let events = 0;
      const cpu0 = await cpuNow();
      const work0 = await engineWork();
      const t0 = performance.now();
      const end = t0 + seconds * 1000;
      const producer = async () => {
        while (performance.now() < end) {
          const inputs = Array.from({ length: batch }, (_, i) => ({
            action: 'workflow.deployed',
            resourceType: 'workflow',
            resourceId: `wf_${i}`,
            actorId: 'usr_bench',
            metadata: { n: i },
          }));
          const results = await ingestEvents(phaseCtx, { boundOrgId: orgId }, inputs);
          const bad = results.find((r) => r.status !== 'created');
          if (bad) throw new Error(`ingest refused an event: ${JSON.stringify(bad)}`);
          events += results.length;
        }
      };
      // The sealer's rounds as in the service (Sealer.start): one every periodMs from the start of the last, at
      // once after a longer one, until the producers are done.
      let wake = () => {};
      const sealing = (async () => {
        for (let last = performance.now(); sealer && performance.now() < end;) {
          await new Promise<void>((resolve) => {
            wake = resolve;
            setTimeout(resolve, Math.max(0, last + opts.periodMs - performance.now())).unref();
          });
          if (performance.now() >= end) break;
          last = performance.now();
          await sealer.round().catch((err: unknown) => console.error(`sealer: round failed: ${String(err)}`));
        }
      })();
      await Promise.all(Array.from({ length: concurrency }, producer));
      const secs = (performance.now() - t0) / 1000;
      // The backlog at the end of the phase, and how long sealing it takes: the round in progress, then the
      // rest by the phase's own sealer, from its memory of what the write path stored, as its next round would
      // (without waiting for that round and its safety margin). For "on" this is part of the phase's cost.
      const lagEvents = phase === 'on' ? await unsealedCount(store, orgId) : undefined;
      const s0 = performance.now();
      wake();
      await sealing;
      if (sealer) {
        await sealOrgNow(sealer, orgId);
        await sealer.stop();
      }
      // The phase's last checkpoint is witnessed too before the phase ends.
      if (witnessing) {
        await witnessing.round();
        await witnessing.stop();
      }
      const drainSecs = (performance.now() - s0) / 1000;
      // Timed, in both kinds of phase: the engine settles the phase's own writes (its refresh and merges would
      // otherwise fall into the next phase, or into none).
      const s1 = performance.now();
      await settle();
      const settleSecs = (performance.now() - s1) / 1000;
      const cpu1 = await cpuNow();
      const work1 = await engineWork();
      const perEvent = (ms: number) => (ms * 1000) / events;
      const work = Object.fromEntries(
        Object.entries(work1).map(([name, w]) => [
          name,
          {
            write: perEvent(w.write - work0[name as keyof Work].write),
            merge: perEvent(w.merge - work0[name as keyof Work].merge),
          },
        ]),
      ) as Work;
      if (phase !== 'warm-up')
        rows.push({
          phase,
          orgId,
          events,
          secs,
          ...(lagEvents !== undefined ? { lagEvents, drainSecs } : {}),
          settleSecs,
          nodeCpu: (cpu1.node - cpu0.node) / events,
          engineCpu: (cpu1.engine - cpu0.engine) / events,
          work,
        });
      console.error(
        `${phase}: ${events} events in ${secs.toFixed(1)} s` +
          (phase === 'on' ? ` + ${drainSecs.toFixed(1)} s until all sealed` : '') +
          ` + ${settleSecs.toFixed(1)} s until the engine settled` +
          ` = ${Math.round(events / (secs + drainSecs + settleSecs))}/s`,
      );
      await sealEverything(); // untimed for "off" (sealing off never seals); nothing left for "on"
    }
    // Events per second until every event of the phase is ingested and, for "on", sealed, and the engine settled.
    const perSecond = (x: (typeof rows)[number]) => x.events / (x.secs + (x.drainSecs ?? 0) + x.settleSecs);
    const rate = (p: 'on' | 'off') => {
      const r = rows.filter((x) => x.phase === p);
      return r.reduce((s, x) => s + perSecond(x), 0) / r.length;
    };
    // CPU per event: steadier than events/s, which follows whatever else the machine does meanwhile.
    const cpu = (p: 'on' | 'off') => {
      const r = rows.filter((x) => x.phase === p);
      const events = r.reduce((s, x) => s + x.events, 0);
      const node = r.reduce((s, x) => s + x.nodeCpu * x.events, 0) / events;
      const engine = r.reduce((s, x) => s + x.engineCpu * x.events, 0) / events;
      return { node, engine, total: node + engine };
    };
    console.log(
      formatTable(
        [
          'phase',
          'events',
          'ingest s',
          'unsealed at end',
          'then all sealed in s',
          'then settled in s',
          'events/s',
          'CPU µs/event (service + engine)',
        ],
        rows.map((r) => [
          r.phase,
          r.events,
          r.secs.toFixed(1),
          r.lagEvents ?? '',
          r.drainSecs === undefined ? '' : r.drainSecs.toFixed(1),
          r.settleSecs.toFixed(1),
          Math.round(perSecond(r)),
          `${(r.nodeCpu + r.engineCpu).toFixed(1)} (${r.nodeCpu.toFixed(1)} + ${r.engineCpu.toFixed(1)})`,
        ]),
      ),
    );
    console.log(
      `\nThe engine's thread time per event by index (not CPU: it includes waits for the disk), µs:\n${formatTable(
        ['phase', ...Object.keys(INDICES).flatMap((n) => [`${n} write`, `${n} merge`])],
        rows.map((r) => [
          r.phase,
          ...Object.values(r.work).flatMap((w) => [w.write.toFixed(1), w.merge.toFixed(1)]),
        ]),
      )}\n`,
    );
    console.log(
      `sealing off: ${Math.round(rate('off'))} events/s, on: ${Math.round(rate('on'))} events/s, on/off = ` +
        `${((rate('on') / rate('off')) * 100).toFixed(1)}% (interval ${intervalMs / 1000} s, concurrency ${concurrency}, batch ${batch})`,
    );
    const [off, on] = [cpu('off'), cpu('on')];
    console.log(
      `CPU per event: off ${off.total.toFixed(1)} µs (service ${off.node.toFixed(1)} + engine ${off.engine.toFixed(1)}), ` +
        `on ${on.total.toFixed(1)} µs (service ${on.node.toFixed(1)} + engine ${on.engine.toFixed(1)}); ` +
        `off/on = ${((off.total / on.total) * 100).toFixed(1)}% (what on/off would be with the CPU as the only limit)`,
    );
    const leafUs = leafMicros();
    console.log(
      `leaf at ingest (beyond the JSON sealing off makes too): ${leafUs.toFixed(1)} µs/event, ` +
        `${((leafUs * rate('off')) / 1e4).toFixed(1)}% of one core at the "off" rate`,
    );
    writeBenchResult(
      'seal',
      { seconds, rounds, concurrency, batch },
      {
        'ingest events/s, sealing off': {
          value: Math.round(rate('off')),
          unit: 'events/s',
          better: 'higher',
        },
        'ingest events/s, sealing on': { value: Math.round(rate('on')), unit: 'events/s', better: 'higher' },
        'on/off': {
          value: Number(((rate('on') / rate('off')) * 100).toFixed(1)),
          unit: '%',
          better: 'higher',
        },
        'leaf at ingest': { value: Number(leafUs.toFixed(1)), unit: 'µs/event', better: 'lower' },
        'CPU per event, sealing off': {
          value: Number(off.total.toFixed(1)),
          unit: 'µs/event',
          better: 'lower',
        },
        'CPU per event, sealing on': {
          value: Number(on.total.toFixed(1)),
          unit: 'µs/event',
          better: 'lower',
        },
      },
      rows,
    );
    if (!args['no-verify']) {
      const last = rows.filter((r) => r.phase === 'on').pop()!;
      const report = await verifyOrg(store, {
        orgId: last.orgId,
        publicKey: key,
        lateGraceMs: opts.lateGraceMs,
      });
      console.log(
        `verify ${last.orgId}: ${report.clean ? 'clean' : `NOT CLEAN (${report.problems.length} problems)`}, ` +
          `${report.events.sealedChecked} events in ${report.seals.count} seals`,
      );
      if (!report.clean) process.exitCode = 2;
    }
  } finally {
    witness?.child.kill('SIGTERM');
    await close();
  }
});
