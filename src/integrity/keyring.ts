/**
 * The log's signing keys over time. Each key has a window [validFrom, validUntil): a seal or checkpoint counts
 * only when signed by a key whose window holds the time it was signed. The ring lives in
 * AUDIT_STATE_DIR/keys/ (keyring.json with the public halves and windows, one `<keyId>.pem` per private key),
 * never in OpenSearch, so database access alone can neither add a key nor widen a window.
 *
 * Without keyring.json the ring is the one key of signing.ts (AUDIT_SIGNING_KEY or signing-key.pem), valid
 * from the epoch: it signed everything before rotation existed. `npm run keys -- rotate` writes the file.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.ts';
import {
  existingPublicKey,
  loadSigningKey,
  publicKeyFromPem,
  signingKeyFromPem,
  type PublicKeyInfo,
  type SigningKey,
} from './signing.ts';

export const KEYS_DIR = 'keys';
export const KEYRING_FILE = 'keyring.json';
export const EPOCH = '1970-01-01T00:00:00.000Z';
/** How stale an instance's view of the ring may be: it re-reads keyring.json at most this long after a change. */
export const KEYRING_RELOAD_MS = 5_000;
/**
 * A key stops being valid no sooner than this after `rotate`/`retire`: longer than an instance's view of the
 * ring can be stale plus a sealer round's signing, so no instance signs outside a window.
 */
export const KEY_CHANGE_GRACE_MS = 30_000;

export interface KeyRecord {
  keyId: string;
  publicKeyPem: string;
  validFrom: string;
  /** Null while the key has no end. */
  validUntil: string | null;
}

export interface RingKey extends KeyRecord, PublicKeyInfo {}

type KeyCfg = Pick<Config, 'signingKeyPem' | 'stateDir'>;

const ringFile = (cfg: KeyCfg) => path.join(cfg.stateDir, KEYS_DIR, KEYRING_FILE);
export const privateKeyFile = (cfg: KeyCfg, keyId: string) =>
  path.join(cfg.stateDir, KEYS_DIR, `${keyId}.pem`);

function isoTime(value: unknown, keyId: string): string {
  const ms = typeof value === 'string' ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) throw new Error(`key ${keyId}: "${String(value)}" is not a time`);
  return new Date(ms).toISOString();
}

export const validAt = (k: KeyRecord, at: string) =>
  k.validFrom <= at && (k.validUntil === null || at < k.validUntil);

/** The keys of a ring, oldest first, and what to ask of them. */
export class Keyring {
  readonly keys: RingKey[];

  constructor(
    records: KeyRecord[],
    private readonly privateKeys: Map<string, SigningKey> = new Map(),
  ) {
    this.keys = records.map((r) => {
      const info = publicKeyFromPem(r.publicKeyPem);
      if (info.keyId !== r.keyId) throw new Error(`key ${r.keyId}: its public key has the id ${info.keyId}`);
      // Windows are compared as ISO strings: each time is checked and written in the one form that sorts.
      return {
        ...r,
        ...info,
        validFrom: isoTime(r.validFrom, r.keyId),
        validUntil: r.validUntil === null ? null : isoTime(r.validUntil, r.keyId),
      };
    });
  }

  find(keyId: string): RingKey | undefined {
    return this.keys.find((k) => k.keyId === keyId);
  }

  /** Whether this instance holds the private key of `keyId`. */
  hasPrivateKey(keyId: string): boolean {
    return this.privateKeys.has(keyId);
  }

  /** The key `keyId` if it was valid at `at` (ISO time). */
  validKey(keyId: string, at: string): RingKey | undefined {
    const k = this.find(keyId);
    return k && validAt(k, at) ? k : undefined;
  }

  /** The keys that sign at `at`, newest first (the first signs seals; all sign checkpoints). */
  signers(at: string): SigningKey[] {
    const out = this.keys
      .filter((k) => validAt(k, at))
      .reverse()
      .flatMap((k) => this.privateKeys.get(k.keyId) ?? []);
    if (!out.length) throw new Error(`no signing key is valid at ${at} (see npm run keys -- list)`);
    return out;
  }
}

function readRecords(cfg: KeyCfg): KeyRecord[] | undefined {
  try {
    return (JSON.parse(fs.readFileSync(ringFile(cfg), 'utf8')) as { keys: KeyRecord[] }).keys;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`${ringFile(cfg)}: ${(err as Error).message}`);
  }
}

/** The ring of the one key signing.ts knows, valid from the epoch with no end. */
function implicitRecords(key: PublicKeyInfo): KeyRecord[] {
  return [{ keyId: key.keyId, publicKeyPem: key.publicKeyPem, validFrom: EPOCH, validUntil: null }];
}

/** Every private key this instance can find: AUDIT_SIGNING_KEY, signing-key.pem and keys/<keyId>.pem. */
function privateKeysOf(cfg: KeyCfg, records: KeyRecord[]): Map<string, SigningKey> {
  const out = new Map<string, SigningKey>();
  const legacy = existingPublicKey(cfg) ? loadSigningKey(cfg) : undefined;
  for (const r of records) {
    if (legacy?.keyId === r.keyId) out.set(r.keyId, legacy);
    else if (fs.existsSync(privateKeyFile(cfg, r.keyId)))
      out.set(r.keyId, signingKeyFromPem(fs.readFileSync(privateKeyFile(cfg, r.keyId), 'utf8')));
  }
  return out;
}

/**
 * The ring as it is on disk now, with the private keys of this instance. The service creates the first key when
 * there is none (`create`); the keys command never does: a key it made would not be the one history has.
 */
export function loadKeyring(cfg: KeyCfg, create = true): Keyring {
  const records = create ? (readRecords(cfg) ?? implicitRecords(loadSigningKey(cfg))) : ringRecords(cfg);
  return new Keyring(records, privateKeysOf(cfg, records));
}

/** The ring's public half, for verification: never creates a key; undefined when there is none. */
export function existingKeyring(cfg: KeyCfg): Keyring | undefined {
  const records = readRecords(cfg);
  if (records) return new Keyring(records);
  const key = existingPublicKey(cfg);
  return key ? new Keyring(implicitRecords(key)) : undefined;
}

/** A ring from records given by hand, e.g. the `keys` of GET /integrity/public-key saved by a customer. */
export const ringOf = (records: KeyRecord[]) => new Keyring(records);

/** A ring of one key with no window, for checks against a single key given by hand. */
export const singleKeyRing = (key: PublicKeyInfo) => new Keyring(implicitRecords(key));

/** Where a signer gets the ring it signs with at this moment (`fresh`: re-read now, not within the bound). */
export interface KeySource {
  get(fresh?: boolean): Keyring;
}

/** A ring of one signing key with no window, that never changes (tests, benchmarks). */
export function fixedKeys(key: SigningKey): KeySource {
  const ring = new Keyring(implicitRecords(key), new Map([[key.keyId, key]]));
  return { get: () => ring };
}

/** Writes the ring atomically (readers see the old file or the new one, never half of one). */
export function saveKeyring(cfg: KeyCfg, records: KeyRecord[]): void {
  const file = ringFile(cfg);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify({ keys: records }, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(tmp, file);
}

/** The records on disk, or the implicit ring of the one existing key; throws when there is no key at all. */
export function ringRecords(cfg: KeyCfg): KeyRecord[] {
  const records = readRecords(cfg);
  if (records) return records;
  const key = existingPublicKey(cfg);
  if (!key)
    throw new Error(
      `no signing key in ${cfg.stateDir} and AUDIT_SIGNING_KEY is not set: run this where the service keeps its ` +
        'state directory, with the same environment',
    );
  return implicitRecords(key);
}

/**
 * The ring an instance signs with, re-read when keyring.json changes (checked at most every
 * KEYRING_RELOAD_MS), so a rotation reaches every instance sharing the state dir without a restart.
 */
export class KeyringSource implements KeySource {
  private ring: Keyring;
  private stamp: string;
  private checkedAt = Date.now();

  constructor(private readonly cfg: KeyCfg) {
    this.stamp = this.fileStamp();
    this.ring = loadKeyring(cfg);
  }

  private fileStamp(): string {
    try {
      const s = fs.statSync(ringFile(this.cfg));
      return `${s.mtimeMs}:${s.size}:${s.ino}`;
    } catch {
      return 'none';
    }
  }

  get(fresh = false): Keyring {
    if (fresh || Date.now() - this.checkedAt >= KEYRING_RELOAD_MS) {
      this.checkedAt = Date.now();
      const stamp = this.fileStamp();
      if (stamp !== this.stamp) {
        this.ring = loadKeyring(this.cfg);
        this.stamp = stamp;
      }
    }
    return this.ring;
  }
}
