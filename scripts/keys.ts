/** `npm run keys -- list | rotate | retire <key id>`: the log's signing keys and their validity windows. */
import { formatTable, intFlag, runCli, UsageError } from './lib/cli.ts';
import { loadConfig } from '../src/config.ts';
import { retireKey, rotateKey } from '../src/integrity/key-rotation.ts';
import { KEY_CHANGE_GRACE_MS, KEYRING_RELOAD_MS, loadKeyring } from '../src/integrity/keyring.ts';

const HELP = `Usage: npm run keys -- list [--json]
       npm run keys -- rotate [--overlap-hours H]
       npm run keys -- retire <key id>

The Ed25519 keys that sign seals and checkpoints, each valid in a window [validFrom, validUntil).
Private keys stay in AUDIT_STATE_DIR/keys (never in OpenSearch); every instance must share that
directory, and picks a change up within ${KEYRING_RELOAD_MS / 1000} s, without a restart. Run it where the service
keeps its state directory, with the service's AUDIT_SIGNING_KEY if it has one.

  list     every key ever used: id, window, whether this machine holds its private key
  rotate   a new key signs from now on; the keys valid now also sign checkpoints for the overlap
           (--overlap-hours, default 24), then their windows end. Customers and witnesses add the
           new verifier key (GET /api/v1/audit-logs/integrity/public-key) during the overlap.
  retire   ends a key's window now (at least ${KEY_CHANGE_GRACE_MS / 1000} s from now, so no instance
           signs outside it) and deletes its private key here, e.g. after a leak; refused for the
           last valid key: rotate first. Anything signed later by that key alone is reported by
           npm run verify and by examples/verify-proof.mjs and monitor.mjs.

History signed by a key inside its window keeps verifying after the key is retired.
Environment: AUDIT_STATE_DIR, AUDIT_SIGNING_KEY (the first key, when set).`;

const OPTIONS = {
  'overlap-hours': { type: 'string' },
  json: { type: 'boolean' },
} as const;

runCli(HELP, { options: OPTIONS, positionals: true }, async (args) => {
  const cfg = loadConfig();
  const [command, ...rest] = args._;
  const expect = (n: number) => {
    if (rest.length !== n)
      throw new UsageError(`${command} takes ${n === 0 ? 'no argument' : 'a key id'} (got ${rest.length})`);
  };
  if (command === 'list') {
    expect(0);
    const ring = loadKeyring(cfg, false);
    const now = new Date().toISOString();
    const rows = ring.keys.map((k) => ({
      keyId: k.keyId,
      validFrom: k.validFrom,
      validUntil: k.validUntil,
      status: ring.validKey(k.keyId, now) ? 'valid' : k.validFrom > now ? 'future' : 'retired',
      privateKeyHere: ring.hasPrivateKey(k.keyId),
    }));
    if (args.json) console.log(JSON.stringify({ keys: rows }, null, 2));
    else
      console.log(
        formatTable(
          ['key id', 'valid from', 'valid until', 'status', 'private key here'],
          rows.map((r) => [
            r.keyId,
            r.validFrom,
            r.validUntil ?? '-',
            r.status,
            r.privateKeyHere ? 'yes' : 'no',
          ]),
        ),
      );
  } else if (command === 'rotate') {
    expect(0);
    const hours = intFlag(args, 'overlap-hours', { default: 24, min: 0, max: 24 * 365 });
    const key = rotateKey(cfg, hours * 3_600_000);
    console.log(
      `new key ${key.keyId} signs from ${key.validFrom}; the keys it replaces sign beside it for ${hours} h`,
    );
  } else if (command === 'retire') {
    expect(1);
    const key = retireKey(cfg, rest[0]!);
    console.log(
      `key ${key.keyId} is valid until ${key.validUntil}; its private key is deleted from ${cfg.stateDir}`,
    );
    if (cfg.signingKeyPem)
      console.log('AUDIT_SIGNING_KEY is set: if it holds this key, remove it from the environment too');
  } else
    throw new UsageError(
      command
        ? `unknown command "${command}" (list, rotate, retire)`
        : 'a command is required: list, rotate or retire',
    );
});
