/** `npm run seed`: realistic synthetic audit events through the real ingest path. */
import { intFlag, Progress, runCli, stringFlag, UsageError, type Args } from './lib/cli.ts';
import { loadConfig } from '../src/config.ts';
import { checkSeedOptions, seed } from './lib/seed/run.ts';
import { connectForScript } from './lib/connect.ts';

const HELP = `Usage: npm run seed -- --org <id> --events N --days D [options]

Generates realistic synthetic audit events for one organization and sends them through the real ingest
path (the function behind POST /api/v1/audit-logs, called in-process against OpenSearch, 1000 events per
batch): catalogue event types weighted like real use, named actors with emails, workspaces, members of
whom about one in seven has left, plausible resource names and metadata, spread over the last D days
(today included) with a daily and weekly rhythm. First it creates the org (plan enterprise), workspaces
and members with the directory functions the operator API uses.

Options:
  --org <id>          the organization to create/fill (required)
  --events N          how many events (required), e.g. 1000000
  --days D            spread them over today and the D-1 days before (required); in the first hour of a
                      UTC day, whose window would be empty, over yesterday and the D-1 days before it
  --seed S            PRNG seed (default "1"): the same seed and arguments give the same data and ids
  --workspaces W      number of workspaces (default 5)
  --members M         number of members (default 40)
  --until <ISO>       end of the window (default: the start of the current UTC hour); the same seed,
                      arguments and --until give identical events, so pass the --until a run printed
                      to complete an interrupted seed later (events already there come back duplicate)
  --concurrency C     batches in flight at once (default 4)
  --json              print the summary as JSON

Sealed days: ingest refuses events for days older than AUDIT_SEAL_AFTER_DAYS (default 2), so seeding more
than that many days needs the setting raised for this run, e.g.
  AUDIT_SEAL_AFTER_DAYS=30 npm run seed -- --org org_demo --events 1000000 --days 30
(the running service's lifecycle sweep then seals those days with its own setting, as it would real data).

Environment: OPENSEARCH_URL (else the running local engine), AUDIT_SEAL_AFTER_DAYS, AUDIT_RETENTION_DAYS.`;

function dateFlag(args: Args, name: string): Date | undefined {
  const raw = stringFlag(args, name);
  if (raw === undefined) return undefined;
  const d = new Date(raw);
  if (Number.isNaN(d.getTime()))
    throw new UsageError(`--${name} must be an ISO 8601 date-time (got "${raw}")`);
  return d;
}

const OPTIONS = {
  org: { type: 'string' },
  events: { type: 'string' },
  days: { type: 'string' },
  seed: { type: 'string' },
  workspaces: { type: 'string' },
  members: { type: 'string' },
  until: { type: 'string' },
  concurrency: { type: 'string' },
  json: { type: 'boolean' },
} as const;

runCli(HELP, { options: OPTIONS }, async (args) => {
  const opts = {
    orgId: stringFlag(args, 'org', true),
    events: intFlag(args, 'events'),
    days: intFlag(args, 'days'),
    seed: stringFlag(args, 'seed') ?? '1',
    workspaces: intFlag(args, 'workspaces', { default: 5 }),
    members: intFlag(args, 'members', { default: 40 }),
    concurrency: intFlag(args, 'concurrency', { default: 4 }),
    until: dateFlag(args, 'until'),
  };
  if (!/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/.test(opts.orgId)) {
    throw new UsageError(`--org must be 1-128 letters, digits, "_", ".", ":" or "-" (got "${opts.orgId}")`);
  }
  const cfg = loadConfig();
  // Refuse a window ingest would refuse before connecting or announcing any work.
  checkSeedOptions(opts, cfg);
  const { store, close } = await connectForScript(cfg);
  let progress: Progress | undefined;
  try {
    console.error(
      `Creating org "${opts.orgId}", ${opts.workspaces} workspaces and ${opts.members} members ...`,
    );
    const report = await seed({ cfg, store }, opts, {
      onDirectoryDone: () => (progress = new Progress('seed', opts.events)),
      onBatch: (n) => progress?.tick(n),
    });
    progress?.finish();
    const rate = Math.round(opts.events / report.seconds);
    const summary = {
      orgId: opts.orgId,
      orgName: report.world.orgName,
      from: report.from.toISOString(),
      until: report.until.toISOString(),
      workspaces: report.world.workspaces.map((w) => w.id),
      members: report.world.people.length,
      departed: report.world.people.filter((p) => p.departedAfter !== undefined).length,
      created: report.created,
      duplicate: report.duplicate,
      rejected: report.rejected,
      directorySeconds: Number(report.directorySeconds.toFixed(1)),
      seconds: Number(report.seconds.toFixed(1)),
      eventsPerSecond: rate,
    };
    if (args.json) console.log(JSON.stringify(summary, null, 2));
    else {
      console.log(
        `Seeded org "${summary.orgId}" (${summary.orgName}): ${summary.workspaces.length} workspaces, ` +
          `${summary.members} members (${summary.departed} departed) in ${summary.directorySeconds} s.\n` +
          `Events: ${summary.created.toLocaleString('en-US')} created, ${summary.duplicate.toLocaleString('en-US')} ` +
          `duplicate (already there), ${summary.rejected.toLocaleString('en-US')} rejected, in ${summary.seconds} s ` +
          `(${rate.toLocaleString('en-US')} events/s).\n` +
          `Window: ${summary.from} to ${summary.until} (add --until ${summary.until} to repeat this exact data).`,
      );
    }
    if (report.rejected > 0) {
      throw new Error(
        `${report.rejected} event(s) were rejected, e.g. ${report.rejections.map((r) => `${r.id}: ${r.error}`).join('; ')}`,
      );
    }
  } finally {
    await close();
  }
});
