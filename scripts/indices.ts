/** `npm run indices`: the audit day indices with docs, size, lifecycle state and step, write block, seals. */
import { formatTable, runCli, stringFlag } from './lib/cli.ts';
import { loadConfig } from '../src/config.ts';
import { explainIndex, listDayIndices, type DayIndexInfo } from '../src/lifecycle/index-listing.ts';
import { retentionInEffect, type RetentionInEffect } from '../src/lifecycle/retention-setting.ts';
import { connectForScript } from './lib/connect.ts';

const HELP = `Usage: npm run indices [-- --json] [--pattern P | --explain <index>]

Lists the audit day indices (audit-logs-YYYY.MM.DD), oldest first, with a totals row:
  day, docs, size, lifecycle state (hot | sealed | delete) and the next step with its date,
  write-blocked (yes/no; "in audit-month-YYYY.MM" for a day consolidated into its month index),
  sealed (all events in a tamper-evidence seal, or how many are still pending).

The lifecycle comes from the ISM plugin's explain API where the cluster has it; otherwise from the rules
the service's lifecycle sweep applies (AUDIT_SEAL_AFTER_DAYS, and the retention in effect: the one stored in
the cluster by npm run retention, else AUDIT_RETENTION_DAYS; see docs/operations.md "Lifecycle").

Options:
  --pattern P        only these indices (e.g. "audit-logs-2024.*"; default audit-logs-*)
  --explain <index>  explain one index's lifecycle (ISM's explain answer, or the sweep's reasoning)
  --json             machine-readable output (an array; with --explain, one object)

Environment: OPENSEARCH_URL (else the running local engine), AUDIT_SEAL_AFTER_DAYS, AUDIT_RETENTION_DAYS (only
while the cluster stores no retention).`;

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

function row(i: DayIndexInfo): (string | number)[] {
  const due = i.lifecycle.nextStepAt && Date.parse(i.lifecycle.nextStepAt) <= Date.now();
  const step = !i.lifecycle.nextStep
    ? ''
    : due
      ? `${i.lifecycle.nextStep} at the next sweep`
      : `${i.lifecycle.nextStep} ${i.lifecycle.nextStepAt?.slice(0, 10) ?? ''}`.trim();
  return [
    i.day ?? i.index,
    i.docs,
    formatBytes(i.sizeBytes),
    i.lifecycle.state,
    step,
    // A consolidated day: write-blocked in its month index, read through an alias with its own name.
    i.storedIn ? `yes (in ${i.storedIn})` : i.writeBlocked ? 'yes' : 'no',
    i.unsealed === 0 ? 'yes' : `${i.unsealed.toLocaleString('en-US')} pending`,
  ];
}

const OPTIONS = {
  pattern: { type: 'string' },
  explain: { type: 'string' },
  json: { type: 'boolean' },
} as const;

function describeRetention(r: RetentionInEffect, sealAfterDays: number): string {
  const where =
    r.source === 'cluster'
      ? `stored in the cluster, set ${r.changedAt?.slice(0, 10) ?? ''} with npm run retention`
      : 'AUDIT_RETENTION_DAYS: nothing stored in the cluster yet';
  return `Retention: ${r.days} days (${where}); write block after ${sealAfterDays} days (AUDIT_SEAL_AFTER_DAYS).`;
}

runCli(HELP, { options: OPTIONS }, async (args) => {
  const env = loadConfig();
  const explain = stringFlag(args, 'explain');
  const { store, close } = await connectForScript(env);
  try {
    const retention = await retentionInEffect(store, env);
    const cfg = { ...env, retentionDays: retention.days };
    if (explain) {
      const out = await explainIndex(store, cfg, explain);
      if (args.json) console.log(JSON.stringify(out, null, 2));
      else {
        const { explanation, ...rest } = out as { explanation?: string[] };
        console.log(JSON.stringify(rest, null, 2));
        if (explanation) console.log(`\n${explanation.join('\n')}`);
      }
      return;
    }
    const list = await listDayIndices(store, cfg, new Date(), stringFlag(args, 'pattern'));
    if (args.json) {
      console.log(JSON.stringify(list, null, 2));
      return;
    }
    if (list.length === 0) {
      console.log('No audit indices yet (they are created with the first event of each day).');
      return;
    }
    const total = (f: (i: DayIndexInfo) => number) => list.reduce((s, i) => s + f(i), 0);
    const unsealed = total((i) => i.unsealed);
    console.log(
      formatTable(
        ['day', 'docs', 'size', 'state', 'next step', 'write-blocked', 'sealed'],
        [
          ...list.map(row),
          [
            `total (${list.length} indices)`,
            total((i) => i.docs),
            formatBytes(total((i) => i.sizeBytes)),
            '',
            '',
            `${list.filter((i) => i.writeBlocked).length} blocked`,
            unsealed === 0 ? 'yes' : `${unsealed.toLocaleString('en-US')} pending`,
          ],
        ],
      ),
    );
    console.log(
      `\nLifecycle by ${list[0]!.lifecycle.source === 'ism' ? 'the ISM plugin' : 'the service sweep (no ISM plugin)'}.`,
    );
    console.log(describeRetention(retention, cfg.sealAfterDays));
  } finally {
    await close();
  }
});
