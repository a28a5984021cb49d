/**
 * `npm run seed`, the work: creates the world's org, workspaces and members through the directory functions
 * (the same ones the operator API uses; departed members really depart), then sends the generated events
 * through the real ingest path (`ingestEvents`, the function behind POST /api/v1/audit-logs) in batches of
 * 1000, a few batches in flight. Event ids are derived from the seed, so re-running an interrupted seed with
 * the same arguments finishes it: what already exists is answered `duplicate`, never written twice.
 */
import type { AppContext } from '../../../src/context.ts';
import { dayAgeDays } from '../../../src/days.ts';
import { DirectoryAuditError } from '../../../src/directory/audit.ts';
import { removeMember, syncMembers } from '../../../src/directory/members.ts';
import { putOrg } from '../../../src/directory/orgs.ts';
import { putWorkspace } from '../../../src/directory/workspaces.ts';
import { ingestEvents } from '../../../src/ingest/ingest.ts';
import type { IngestResult } from '../../../src/ingest/outcomes.ts';
import { withRetentionInEffect } from '../../../src/lifecycle/retention-setting.ts';
import { isUnavailable } from '../../../src/store/client.ts';
import { defaultUntil, generateEvents, seedWindow } from './events.ts';
import { buildWorld, type SeedWorld } from './world.ts';

export interface SeedOptions {
  orgId: string;
  events: number;
  days: number;
  seed: string;
  workspaces: number;
  members: number;
  batchSize?: number;
  /** Batches in flight at once. */
  concurrency?: number;
  /** The end of the window (default: the start of the current UTC hour); same seed + until = same data. */
  until?: Date;
}

export interface SeedReport {
  world: SeedWorld;
  /** The window the events' createdAt spans. */
  from: Date;
  until: Date;
  created: number;
  duplicate: number;
  rejected: number;
  /** The first few rejections, to show the operator why. */
  rejections: IngestResult[];
  /** Creating the org, workspaces and members. */
  directorySeconds: number;
  /** Generating and ingesting the events (the throughput figure). */
  seconds: number;
}

export class SeedError extends Error {}

/** Refuses what ingest would refuse anyway, before creating anything. */
export function checkSeedOptions(opts: SeedOptions, cfg: AppContext['cfg'], now = new Date()): void {
  const until = opts.until ?? defaultUntil(now);
  if (until.getTime() > now.getTime()) {
    throw new SeedError(
      `--until ${until.toISOString()} is in the future; events cannot be seeded ahead of time.`,
    );
  }
  // The oldest seeded day must still be open: ingest refuses back-fill into days old enough to be sealed.
  const oldest = dayAgeDays(new Date(seedWindow(opts.days, until).from), now);
  if (oldest >= cfg.sealAfterDays) {
    throw new SeedError(
      `the seeded window reaches back ${oldest} days, but days from AUDIT_SEAL_AFTER_DAYS ` +
        `(${cfg.sealAfterDays}) on are sealed and ingest refuses back-fill into them. Run the seed with ` +
        `AUDIT_SEAL_AFTER_DAYS=${oldest + 1} (and AUDIT_RETENTION_DAYS above it), e.g. ` +
        `AUDIT_SEAL_AFTER_DAYS=${oldest + 1} npm run seed -- ..., or seed fewer days.`,
    );
  }
  if (oldest >= cfg.retentionDays) {
    throw new SeedError(
      `the seeded window reaches back ${oldest} days, past the retention of ${cfg.retentionDays} days ` +
        '(npm run indices shows it).',
    );
  }
}

/** Runs `fn`, retrying a few times with backoff while the store is unavailable (ingest repeats are safe). */
export async function withRetry<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const transient = isUnavailable(err);
      // Retrying ingest is safe: the ledger turns a repeat into `duplicate`.
      if (!transient || attempt >= 6) throw err;
      await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
    }
  }
}

/** Runs `fn` over `items`, `limit` at a time (directory writes each wait for a refresh, so one by one is slow). */
async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * Creates the org, its workspaces and members as the operator API would, dated as the org's history rather
 * than its seeding: the setup at the start of the window (`setupAt`, epoch ms), each departure when that
 * person left. Everyone joins with one member sync; those who left then depart one by one.
 */
export async function seedDirectory(ctx: AppContext, world: SeedWorld, setupAt: number): Promise<void> {
  // A day already sealed refuses back-dated events: such a change is recorded as made now (same event id).
  const dated = async (ms: number, change: (c: AppContext) => Promise<unknown>) => {
    try {
      await change({ ...ctx, directoryEventTime: new Date(ms) });
    } catch (err) {
      if (!(err instanceof DirectoryAuditError)) throw err;
      await change(ctx);
    }
  };
  await dated(setupAt, (c) => putOrg(c, world.orgId, { name: world.orgName, plan: 'enterprise' }));
  await eachLimited(world.workspaces, 8, (ws) =>
    dated(setupAt, (c) => putWorkspace(c, world.orgId, ws.id, { name: ws.name })),
  );
  const entry = (p: SeedWorld['people'][number]) => ({
    userId: p.userId,
    email: p.email,
    name: p.name,
    role: p.role,
  });
  await dated(setupAt, (c) => syncMembers(c, world.orgId, world.people.map(entry)));
  const leavers = world.people
    .filter((p) => p.departedAfter !== undefined)
    .sort((a, b) => a.departedAfter! - b.departedAfter!);
  for (const p of leavers) await dated(p.departedAfter!, (c) => removeMember(c, world.orgId, p.userId));
}

export async function seed(
  ctx: AppContext,
  opts: SeedOptions,
  hooks: { onDirectoryDone?: () => void; onBatch?: (done: number) => void } = {},
): Promise<SeedReport> {
  checkSeedOptions(opts, await withRetentionInEffect(ctx.store, ctx.cfg));
  const started = Date.now();
  const until = opts.until ?? defaultUntil();
  const window = seedWindow(opts.days, until);
  const world = buildWorld({ ...opts, ...window });
  await seedDirectory(ctx, world, window.from);
  const directorySeconds = (Date.now() - started) / 1000;
  hooks.onDirectoryDone?.();

  const report: SeedReport = {
    world,
    from: new Date(window.from),
    until,
    created: 0,
    duplicate: 0,
    rejected: 0,
    rejections: [],
    directorySeconds,
    seconds: 0,
  };
  const ingestStarted = Date.now();
  const batchSize = opts.batchSize ?? 1000;
  const concurrency = opts.concurrency ?? 4;
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;

  const send = async (batch: unknown[]) => {
    const results = await withRetry(() => ingestEvents(ctx, { boundOrgId: opts.orgId }, batch));
    for (const r of results) {
      report[r.status]++;
      if (r.status === 'rejected' && report.rejections.length < 5) report.rejections.push(r);
    }
    hooks.onBatch?.(batch.length);
  };
  const launch = (batch: unknown[]) => {
    const p = send(batch).then(
      () => void inFlight.delete(p),
      (err) => {
        inFlight.delete(p);
        failure ??= err;
      },
    );
    inFlight.add(p);
  };

  let batch: unknown[] = [];
  for (const event of generateEvents({ world, seed: opts.seed, events: opts.events, ...window })) {
    batch.push(event);
    if (batch.length < batchSize) continue;
    launch(batch);
    batch = [];
    // Back-pressure: never more than `concurrency` batches in memory or in flight.
    while (inFlight.size >= concurrency) await Promise.race(inFlight);
    if (failure) break;
  }
  if (batch.length > 0 && !failure) launch(batch);
  await Promise.all(inFlight);
  if (failure) throw failure;
  report.seconds = (Date.now() - ingestStarted) / 1000;
  return report;
}
