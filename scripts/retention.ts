/** `npm run retention -- --days N`: shows what a new retention would delete, then applies it. */
import readline from 'node:readline/promises';
import { formatTable, runCli, stringFlag, UsageError } from './lib/cli.ts';
import { loadConfig } from '../src/config.ts';
import { applyRetention, planRetention, type RetentionPlan } from '../src/lifecycle/retention.ts';
import { connectForScript } from './lib/connect.ts';

const HELP = `Usage: npm run retention -- --days N [--dry-run] [--yes] [--json]

Changes how long audit day indices are kept, for the whole cluster. First shows what it will do: the day
indices the new retention deletes now (and those past the seal age it write-blocks on the way), and the
lifecycle policy with its new ages. Then, once confirmed, applies it:
  - stores it in the cluster: every service instance uses it from its next lifecycle sweep (at most
    AUDIT_LIFECYCLE_SWEEP_SECONDS later), every script (indices, verify, seed, ...) from its next run;
  - to the ISM policy, where the cluster has the index-management plugin (existing indices are moved to
    the new policy version);
  - to the existing indices, by running the service's lifecycle sweep with the new retention (it ages
    indices by the day in their name, so back-filled old days go too).
Deleted indices are gone for good; npm run verify counts their events as expired, never as problems.

The retention stored in the cluster wins over AUDIT_RETENTION_DAYS, which is only used while nothing is
stored. npm run indices prints the retention in effect and where it comes from.

Options:
  --days N     the new retention in days (required; larger than AUDIT_SEAL_AFTER_DAYS)
  --pattern P  only these day indices (e.g. "audit-logs-2024.*"; default all: audit-logs-*); the new
               retention is stored for all of them all the same
  --dry-run    only show what would happen
  --yes        apply without asking (needed when stdin is not a terminal)
  --json       print the plan (and the result) as JSON

Environment: OPENSEARCH_URL (else the running local engine), AUDIT_SEAL_AFTER_DAYS.`;

function describePlan(plan: RetentionPlan): string {
  const lines = [
    `Retention: ${plan.previousRetentionDays} → ${plan.retentionDays} days (seal after ${plan.sealAfterDays}).`,
    `Lifecycle policy: ${plan.policy}` +
      (plan.ism
        ? ' (ISM plugin: the policy is updated)'
        : ' (no ISM plugin: applied by the lifecycle sweep)'),
  ];
  if (plan.deleteNow.length === 0) lines.push('No index is past the new retention: nothing is deleted now.');
  else {
    const docs = plan.deleteNow.reduce((s, i) => s + i.docs, 0);
    lines.push(
      `DELETED now: ${plan.deleteNow.length} day index(es), ${docs.toLocaleString('en-US')} events:`,
      formatTable(
        ['index', 'day', 'docs'],
        plan.deleteNow.map((i) => [i.index, i.day ?? '', i.docs]),
      ),
    );
  }
  if (plan.sealNow.length > 0) {
    lines.push(
      `Write-blocked on the way (past the seal age): ${plan.sealNow.map((i) => i.index).join(', ')}`,
    );
  }
  return lines.join('\n');
}

const OPTIONS = {
  days: { type: 'string' },
  pattern: { type: 'string' },
  'dry-run': { type: 'boolean' },
  yes: { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

runCli(HELP, { options: OPTIONS }, async (args) => {
  const raw = stringFlag(args, 'days', true);
  const days = Number(raw);
  if (!Number.isSafeInteger(days))
    throw new UsageError(`--days must be a whole number of days (got "${raw}")`);
  const cfg = loadConfig();
  const { store, close } = await connectForScript(cfg);
  try {
    const pattern = stringFlag(args, 'pattern');
    const plan = await planRetention(store, cfg, days, { pattern });
    if (!args.json) console.log(describePlan(plan));
    if (args['dry-run']) {
      if (args.json) console.log(JSON.stringify({ plan, applied: false }, null, 2));
      else console.log('\nDry run: nothing changed.');
      return;
    }
    if (!args.yes) {
      if (!process.stdin.isTTY)
        throw new UsageError('not applied: pass --yes to apply, or --dry-run to only look');
      const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
      const answer = await rl.question('\nApply? Type "yes": ');
      rl.close();
      if (answer.trim() !== 'yes') throw new Error('not confirmed; nothing changed');
    }
    const result = await applyRetention(store, cfg, days, { pattern });
    if (args.json) {
      console.log(JSON.stringify({ plan, applied: true, result }, null, 2));
      return;
    }
    const deleted = result.sweep.actions.filter((a) => a.action === 'deleted').map((a) => a.index);
    const sealed = result.sweep.actions.filter((a) => a.action === 'sealed').map((a) => a.index);
    const months = result.sweep.actions.filter((a) => a.action === 'consolidated').map((a) => a.index);
    const policy = result.changes.find((c) => c.kind === 'ISM policy');
    console.log(
      `\nApplied. Deleted ${deleted.length} day(s)${deleted.length ? `: ${deleted.join(', ')}` : ''}; ` +
        `write-blocked ${sealed.length}` +
        (months.length ? `; sealed months consolidated: ${months.join(', ')}` : '') +
        `. ISM policy: ${policy?.action ?? 'n/a'}` +
        (result.ismIndicesUpdated !== undefined ? ` (${result.ismIndicesUpdated} indices moved to it)` : '') +
        '.\n' +
        `The retention of ${days} days is stored in the cluster: every service instance applies it from its ` +
        'next lifecycle sweep, every script from its next run.',
    );
  } finally {
    await close();
  }
});
