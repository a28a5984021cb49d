/** `npm run verify`: checks one org's tamper evidence end to end; exit 0 only when nothing is wrong. */
import fs from 'node:fs';
import { Progress, runCli, stringFlag, UsageError, type Args } from './lib/cli.ts';
import { loadConfig, parseWitnessSpec, type Config } from '../src/config.ts';
import { parseCheckpoint, type Checkpoint } from '../src/integrity/checkpoint.ts';
import { sealerOptions } from '../src/integrity/sealer/sealer.ts';
import {
  existingKeyring,
  ringOf,
  singleKeyRing,
  type Keyring,
  type KeyRecord,
} from '../src/integrity/keyring.ts';
import { logName } from '../src/integrity/org-tree.ts';
import { publicKeyFromPem } from '../src/integrity/signing.ts';
import type { Witnessed } from '../src/integrity/verify-tree.ts';
import { witnessedCheckpoint } from '../src/integrity/witnessed.ts';
import { verifyOrg, type VerifyReport } from '../src/integrity/verify.ts';
import { getOrg } from '../src/directory/orgs.ts';
import { retentionInEffect } from '../src/lifecycle/retention-setting.ts';
import { connectForScript } from './lib/connect.ts';

const HELP = `Usage: npm run verify -- --org <orgId> [--since ISO] [--until ISO] [--checkpoint <file>]
                          [--save-checkpoint <file>] [--keys <file> | --public-key <file>]
                          [--witness <url>=<verifier key> ...] [--json]

Re-reads the org's seals, ledger and events from OpenSearch and recomputes every leaf, Merkle root,
seal hash, chain link and Ed25519 signature. Reports each problem with the org, the seal seq and/or
event id, and what differs: modified, deleted, inserted or back-dated events, dropped, reordered or
rewritten seals, seals signed by another key or by a key outside its window, a chain that disagrees
with a saved checkpoint, and a tree that a witness saw otherwise.

Options:
  --org <id>                the organization to verify (required)
  --since / --until <ISO>   only events accepted in this window (the chain itself is always checked whole)
  --checkpoint <file>       a checkpoint saved earlier (from GET /api/v1/audit-logs/integrity/checkpoints,
                            the "checkpoint" of a proof, or --save-checkpoint): proves that history up to
                            it was not rewritten since, even by someone holding the signing key
  --save-checkpoint <file>  after a clean run, write the newest checkpoint there (keep it outside this system)
  --keys <file>             verify against these keys and windows: the answer of GET
                            /api/v1/audit-logs/integrity/public-key saved as JSON (its "keys"), instead of
                            the service's own ring (AUDIT_STATE_DIR/keys, see npm run keys)
  --public-key <file>       verify against this one PEM public key, valid at all times
  --witness <url>=<vkey>    ask this witness (npm run witness, or any serving GET /<origin hash>/checkpoint)
                            what it cosigned last for the org: the tree must pass through it, or history
                            was rewritten or rolled back since (repeatable)
  --json                    print the report as JSON

Sealed events deleted with their day by retention (the retention stored in the cluster, see npm run
retention) are counted as expired, not as problems.

Exit status: 0 clean; 2 problems found; 1 the check could not run (usage, connection).
Environment: OPENSEARCH_URL (else the running local engine), AUDIT_SIGNING_KEY, AUDIT_STATE_DIR.`;

function dateFlag(v: string | undefined, name: string): Date | undefined {
  if (v === undefined) return undefined;
  const d = new Date(v);
  if (Number.isNaN(d.getTime()))
    throw new UsageError(`--${name} must be an ISO 8601 date or date-time (got "${v}")`);
  return d;
}

function readCheckpoint(file: string): Checkpoint {
  const json = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  // A proof response carries its seal's checkpoint under "sealCheckpoint"; a checkpoints page under "data".
  const data = json.data;
  const value = json.sealCheckpoint ?? (Array.isArray(data) ? data[data.length - 1] : json);
  try {
    return parseCheckpoint(value);
  } catch (err) {
    throw new UsageError(`--checkpoint ${file}: ${(err as Error).message}`);
  }
}

function print(report: VerifyReport, checkpoint: Checkpoint | undefined): void {
  const { seals, events } = report;
  const range = seals.count ? ` (seq ${seals.firstSeq}–${seals.lastSeq})` : '';
  console.log(`org ${report.orgId}, published key ${report.keyId}`);
  console.log(`  seals:  ${seals.count}${range}, ${seals.checked} checked against their events`);
  console.log(
    `  events: ${events.sealedChecked} sealed events recomputed, ${events.scanned} event documents scanned`,
  );
  console.log(`  tree:   ${report.treeHeads} signed tree heads recomputed from the seals`);
  if (events.expired > 0) {
    console.log(
      `  expired: ${events.expired} sealed events deleted with their day by retention (not a finding)`,
    );
  }
  if (events.pending > 0) {
    console.log(
      `  pending: ${events.pending} accepted events not sealed yet (oldest accepted ${events.oldestPendingAcceptedAt}); ` +
        'they are sealed within AUDIT_SEAL_INTERVAL_SECONDS while the service runs',
    );
  }
  if (
    checkpoint &&
    !report.problems.some((p) => p.kind.startsWith('checkpoint') || p.kind === 'chain-truncated')
  ) {
    console.log(`  checkpoint: seal ${checkpoint.seq} matches the saved checkpoint`);
  }
  if (report.clean) {
    console.log('CLEAN: no tampering found');
    return;
  }
  console.log(`NOT CLEAN: ${report.problems.length} problem${report.problems.length === 1 ? '' : 's'}`);
  for (const p of report.problems) {
    const where = [p.seq !== undefined ? `seal ${p.seq}` : '', p.eventId ? `event ${p.eventId}` : '']
      .filter(Boolean)
      .join(', ');
    console.log(`  [${p.kind}]${where ? ` ${where}:` : ''} ${p.message}`);
  }
}

/** The keys to check against: --keys, --public-key, else the service's own ring. */
function readKeys(args: Args, cfg: Config): Keyring {
  const keysFile = stringFlag(args, 'keys');
  const pemFile = stringFlag(args, 'public-key');
  if (keysFile && pemFile) throw new UsageError('give --keys or --public-key, not both');
  if (keysFile) {
    try {
      const json = JSON.parse(fs.readFileSync(keysFile, 'utf8')) as { keys?: KeyRecord[] } | KeyRecord[];
      const records = Array.isArray(json) ? json : json.keys;
      if (!Array.isArray(records) || !records.length) throw new Error('no "keys" list in it');
      return ringOf(records);
    } catch (err) {
      throw new UsageError(`--keys ${keysFile}: ${(err as Error).message}`);
    }
  }
  if (pemFile) return singleKeyRing(publicKeyFromPem(fs.readFileSync(pemFile, 'utf8')));
  const ring = existingKeyring(cfg);
  if (!ring)
    throw new UsageError(
      `no signing key here (AUDIT_SIGNING_KEY unset, nothing in ${cfg.stateDir}); pass --keys <file> with the ` +
        'answer of GET /api/v1/audit-logs/integrity/public-key',
    );
  return ring;
}

const OPTIONS = {
  org: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  checkpoint: { type: 'string' },
  'save-checkpoint': { type: 'string' },
  'public-key': { type: 'string' },
  keys: { type: 'string' },
  witness: { type: 'string', multiple: true },
  json: { type: 'boolean' },
} as const;

runCli(HELP, { options: OPTIONS }, async (args) => {
  const orgId = stringFlag(args, 'org', true);
  const since = dateFlag(stringFlag(args, 'since'), 'since');
  const until = dateFlag(stringFlag(args, 'until'), 'until');
  const checkpointFile = stringFlag(args, 'checkpoint');
  const saveFile = stringFlag(args, 'save-checkpoint');
  const cfg = loadConfig();
  const checkpoint = checkpointFile ? readCheckpoint(checkpointFile) : undefined;
  const keys = readKeys(args, cfg);
  const witnesses = ((args.witness as string[] | undefined) ?? []).map((w) => {
    try {
      return parseWitnessSpec(w, '--witness');
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  });
  const conn = await connectForScript(cfg);
  try {
    // An org the directory does not know has no events and no seals: "clean" would be a false all-clear.
    if (!(await getOrg({ cfg, store: conn.store }, orgId))) {
      throw new Error(
        `unknown organization "${orgId}": it is not in the directory (see npm run admin -- --help)`,
      );
    }
    const witnessed: Witnessed[] = [];
    for (const w of witnesses) {
      const seen = await witnessedCheckpoint(w, logName(cfg.logOrigin, orgId), keys);
      if (seen) witnessed.push(seen);
      else console.error(`witness ${w.url} has cosigned nothing of org ${orgId} yet`);
    }
    const progress = new Progress('verify');
    const report = await verifyOrg(conn.store, {
      orgId,
      keys,
      witnessed,
      ...(since ? { since } : {}),
      ...(until ? { until } : {}),
      ...(checkpoint ? { checkpoint } : {}),
      lateGraceMs: sealerOptions(cfg.sealIntervalMs).lateGraceMs,
      retention: await retentionInEffect(conn.store, cfg),
      logOrigin: cfg.logOrigin,
      progress,
    });
    progress.finish();
    if (args.json) console.log(JSON.stringify(report, null, 2));
    else print(report, checkpoint);
    if (saveFile) {
      if (!report.clean) console.error(`not saving a checkpoint: the chain is not clean`);
      else if (!report.head) console.error(`not saving a checkpoint: org ${orgId} has no seal yet`);
      else {
        fs.writeFileSync(saveFile, `${JSON.stringify(report.head, null, 2)}\n`);
        console.error(`saved the checkpoint of seal ${report.head.seq} to ${saveFile}`);
      }
    }
    if (!report.clean) process.exitCode = 2;
  } finally {
    await conn.close();
  }
});
