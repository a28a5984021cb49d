/** `npm run export`: streams an org's audit entries to an NDJSON or CSV file, with progress, resumable. */
import { Progress, runCli, stringFlag, UsageError, type Args } from './lib/cli.ts';
import { loadConfig } from '../src/config.ts';
import { getOrg } from '../src/directory/orgs.ts';
import { exportFormatFor, exportToFile, statePath } from './lib/export.ts';
import { InvalidInput } from '../src/errors.ts';
import { parseListQuery } from '../src/query/query-params.ts';
import { connectForScript } from './lib/connect.ts';

const HELP = `Usage: npm run export -- --org <id> --out FILE [--format ndjson|csv] [filters] [--resume]

Writes every audit entry of an organization that matches the filters to FILE, newest first, in the API's
entry format (the twelve public fields; never IP address or user agent). Streams: one page of 1000 records
in memory at a time, whatever the size. A progress bar on stderr shows count, rate and ETA (the total is
counted when the export starts).

Resumable: after each page the file is synced and FILE.export-state.json records where it got to. If the
export stops (error, Ctrl-C, crash), run the same command with --resume: it continues after the last
checkpoint, and the finished file holds every record exactly once. The state file is removed at the end.

Options:
  --org <id>             the organization (required)
  --out FILE             the output file (required; refused if it exists, unless --resume)
  --format ndjson|csv    ndjson: one JSON entry per line; csv: a header row, then one row per entry.
                         Default: what the extension of FILE names (.csv, .ndjson), else ndjson; a
                         --format that contradicts the extension is refused
  --since <date>         createdAt on or after (ISO 8601 date or date-time)
  --until <date>         createdAt on or before (a date alone means the end of that day)
  --action a,b           event types;   --resource-type t,u   resource types
  --workspace <id>       one workspace; --actor <userId>      one actor; --resource-id <id>
  --search <text>        free text, as in the admin page
  --exclude-departed     leave out entries of members who have left (default: everything)
  --resume               continue an interrupted export of the same arguments
  --page-size N          records per request and per checkpoint (default 1000)

Environment: OPENSEARCH_URL (else the running local engine).`;

/** Flag → query parameter of the list API, whose validation (and messages) the export reuses. */
const FLAGS: Record<string, string> = {
  action: 'action',
  'resource-type': 'resourceType',
  workspace: 'workspaceId',
  actor: 'actorId',
  'resource-id': 'resourceId',
  search: 'search',
  since: 'startDate',
  until: 'endDate',
};
const FLAG_OF = Object.fromEntries(Object.entries(FLAGS).map(([f, p]) => [p, f]));

function filtersFrom(args: Args) {
  const raw: Record<string, string> = { includeDeparted: args['exclude-departed'] ? 'false' : 'true' };
  for (const [flag, param] of Object.entries(FLAGS)) {
    const v = stringFlag(args, flag);
    if (v !== undefined) raw[param] = v;
  }
  try {
    return parseListQuery(raw).filters;
  } catch (err) {
    if (err instanceof InvalidInput && err.param) {
      const flag = FLAG_OF[err.param] ?? err.param;
      throw new UsageError(err.message.replaceAll(err.param, `--${flag}`));
    }
    throw err;
  }
}

const OPTIONS = {
  org: { type: 'string' },
  out: { type: 'string' },
  format: { type: 'string' },
  ...Object.fromEntries(Object.keys(FLAGS).map((f) => [f, { type: 'string' } as const])),
  'exclude-departed': { type: 'boolean' },
  resume: { type: 'boolean' },
  'page-size': { type: 'string' },
} as const;

runCli(HELP, { options: OPTIONS }, async (args) => {
  const orgId = stringFlag(args, 'org', true);
  const out = stringFlag(args, 'out', true);
  const format = exportFormatFor(out, stringFlag(args, 'format'));
  const filters = filtersFrom(args);
  const pageSize = Number(stringFlag(args, 'page-size') ?? 1000);
  if (!Number.isSafeInteger(pageSize) || pageSize < 1 || pageSize > 10_000) {
    throw new UsageError('--page-size must be an integer from 1 to 10000');
  }
  const cfg = loadConfig();
  const { store, close } = await connectForScript(cfg);
  const progress = new Progress('export');
  let started = false;
  try {
    if (!(await getOrg({ cfg, store }, orgId))) throw new Error(`organization "${orgId}" does not exist`);
    const result = await exportToFile(
      { store, scope: { orgId }, filters, format, out, resume: Boolean(args.resume), pageSize },
      {
        onStart: (total, already) => {
          started = true;
          if (already > 0) console.error(`Resuming after ${already.toLocaleString('en-US')} records.`);
          progress.setTotal(Math.max(total - already, 0));
        },
        onRecords: (n) => progress.tick(n),
      },
    );
    progress.finish();
    console.log(
      `Exported ${result.count.toLocaleString('en-US')} records (${result.bytes.toLocaleString('en-US')} bytes) to ${out}.`,
    );
  } catch (err) {
    if (started) {
      progress.finish();
      throw new Error(
        `export stopped after ${progress.count.toLocaleString('en-US')} more records: ${(err as Error).message}. ` +
          `${out} and ${statePath(out)} hold everything up to the last checkpoint; run the same command with ` +
          '--resume to continue.',
      );
    }
    throw err;
  } finally {
    await close();
  }
});
