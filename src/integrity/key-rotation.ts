/**
 * Rotating and retiring the log's signing keys (npm run keys). A new key signs from the moment it is written;
 * the keys it replaces keep signing checkpoints beside it for the overlap, then their windows end. Windows end
 * no sooner than KEY_CHANGE_GRACE_MS from now, so no instance (each re-reads the ring within
 * KEYRING_RELOAD_MS) signs with a key after its window.
 */
import fs from 'node:fs';
import type { Config } from '../config.ts';
import {
  KEY_CHANGE_GRACE_MS,
  KEYS_DIR,
  privateKeyFile,
  ringRecords,
  saveKeyring,
  validAt,
  type KeyRecord,
} from './keyring.ts';
import { generateSigningKeyPem, keyIdOf, signingKeyFromPem, SIGNING_KEY_FILE } from './signing.ts';
import path from 'node:path';

type KeyCfg = Pick<Config, 'signingKeyPem' | 'stateDir'>;

const later = (a: string, b: string) => (a > b ? a : b);

/**
 * Runs a change of the ring alone: a lock file made with O_EXCL, so two commands never both rewrite the ring
 * from the same old copy (one would drop the other's key).
 */
function locked<T>(cfg: KeyCfg, change: () => T): T {
  const lock = path.join(cfg.stateDir, KEYS_DIR, 'keyring.lock');
  fs.mkdirSync(path.dirname(lock), { recursive: true, mode: 0o700 });
  try {
    fs.writeFileSync(lock, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST')
      throw new Error(`another keys command is changing the ring (remove ${lock} if none is running)`);
    throw err;
  }
  try {
    return change();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

/** Adds a new key valid from now; every key valid now stays valid for `overlapMs` more. */
export function rotateKey(cfg: KeyCfg, overlapMs: number, now = new Date()): KeyRecord {
  return locked(cfg, () => rotate(cfg, overlapMs, now));
}

function rotate(cfg: KeyCfg, overlapMs: number, now: Date): KeyRecord {
  const at = now.toISOString();
  const until = new Date(now.getTime() + Math.max(overlapMs, KEY_CHANGE_GRACE_MS)).toISOString();
  const records = ringRecords(cfg).map((r) =>
    validAt(r, at) ? { ...r, validUntil: r.validUntil === null ? until : later(r.validUntil, at) } : r,
  );
  const pem = generateSigningKeyPem();
  const key = signingKeyFromPem(pem);
  fs.mkdirSync(path.dirname(privateKeyFile(cfg, key.keyId)), { recursive: true, mode: 0o700 });
  fs.writeFileSync(privateKeyFile(cfg, key.keyId), pem, { mode: 0o600, flag: 'wx' });
  const fresh: KeyRecord = {
    keyId: key.keyId,
    publicKeyPem: key.publicKeyPem,
    validFrom: at,
    validUntil: null,
  };
  saveKeyring(cfg, [...records, fresh]);
  return fresh;
}

/**
 * Ends `keyId`'s window now (plus the grace) and deletes its private key from the state dir, e.g. after a
 * leak. Refused when no other key stays valid with no end: rotate first.
 */
export function retireKey(cfg: KeyCfg, keyId: string, now = new Date()): KeyRecord {
  return locked(cfg, () => retire(cfg, keyId, now));
}

function retire(cfg: KeyCfg, keyId: string, now: Date): KeyRecord {
  const records = ringRecords(cfg);
  const target = records.find((r) => r.keyId === keyId);
  if (!target) throw new Error(`no key ${keyId} in the ring (npm run keys -- list)`);
  const until = new Date(now.getTime() + KEY_CHANGE_GRACE_MS).toISOString();
  if (!records.some((r) => r.keyId !== keyId && r.validUntil === null))
    throw new Error(`no key but ${keyId} stays valid with no end: run npm run keys -- rotate first`);
  const retired = {
    ...target,
    validUntil: target.validUntil !== null && target.validUntil < until ? target.validUntil : until,
  };
  saveKeyring(
    cfg,
    records.map((r) => (r.keyId === keyId ? retired : r)),
  );
  fs.rmSync(privateKeyFile(cfg, keyId), { force: true });
  const legacy = path.join(cfg.stateDir, SIGNING_KEY_FILE);
  if (
    fs.existsSync(legacy) &&
    keyIdOf(signingKeyFromPem(fs.readFileSync(legacy, 'utf8')).publicKey) === keyId
  )
    fs.rmSync(legacy);
  return retired;
}
