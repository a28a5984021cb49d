/** `npm run setup`: applies the index template, internal indices and ISM policy idempotently; reports changes. */
import { formatTable, runCli } from './lib/cli.ts';
import { loadConfig } from '../src/config.ts';
import { connectForScript } from './lib/connect.ts';

const HELP = `Usage: npm run setup [-- --json]

Applies what index-templates/ defines to OpenSearch, idempotently, and reports what changed:
  - the composable index template for the day indices (audit-logs-*), with AUDIT_INDEX_SHARDS/REPLICAS
  - the internal indices (directory, ledger, seals ...): created when missing, mappings extended
  - the ISM lifecycle policy with AUDIT_SEAL_AFTER_DAYS / AUDIT_RETENTION_DAYS, where the cluster has the
    index-management plugin (otherwise "skipped": the in-service lifecycle sweep does that job)
  - records of orgs with ':' in their id still under old, ambiguous ids: moved once (docs/operations.md)
Running it twice changes nothing the second time. The service does the same at every start.

Options:
  --json   print the changes as JSON: [{ kind, name, action, detail? }]

Environment: OPENSEARCH_URL (else the running local engine), AUDIT_* settings (see README).`;

runCli(HELP, { options: { json: { type: 'boolean' } } }, async (args) => {
  const cfg = loadConfig();
  const { url, changes, close } = await connectForScript(cfg);
  await close();
  if (args.json) {
    console.log(JSON.stringify(changes, null, 2));
    return;
  }
  console.log(`OpenSearch: ${url}\n`);
  console.log(
    formatTable(
      ['kind', 'name', 'action', 'detail'],
      changes.map((c) => [c.kind, c.name, c.action, c.detail ?? '']),
    ),
  );
  const changed = changes.filter((c) => c.action === 'created' || c.action === 'updated').length;
  console.log(
    `\n${changed === 0 ? 'Nothing to change: everything was up to date.' : `${changed} change(s) applied.`}`,
  );
});
