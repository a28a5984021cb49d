/**
 * The Ed25519 checkpoint signing key: from AUDIT_SIGNING_KEY (PKCS#8 PEM), else generated at first start and
 * kept in AUDIT_STATE_DIR/signing-key.pem (mode 0600, outside the database, so database access alone cannot
 * re-sign a rewritten chain). `keyId` = the first 16 hex characters of SHA-256 over the public key (SPKI DER).
 */
import crypto, { type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.ts';
import { loadOrCreateSecret } from '../store/secrets.ts';

export const SIGNING_KEY_FILE = 'signing-key.pem';

export interface PublicKeyInfo {
  publicKey: KeyObject;
  publicKeyPem: string;
  keyId: string;
}

export interface SigningKey extends PublicKeyInfo {
  privateKey: KeyObject;
}

export function keyIdOf(publicKey: KeyObject): string {
  return crypto
    .createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);
}

function publicInfo(publicKey: KeyObject): PublicKeyInfo {
  if (publicKey.asymmetricKeyType !== 'ed25519') {
    throw new Error(`the checkpoint key must be Ed25519 (got ${publicKey.asymmetricKeyType})`);
  }
  return {
    publicKey,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    keyId: keyIdOf(publicKey),
  };
}

export function signingKeyFromPem(pem: string): SigningKey {
  const privateKey = crypto.createPrivateKey(pem);
  return { privateKey, ...publicInfo(crypto.createPublicKey(privateKey)) };
}

/** A public key from a PEM that holds either the public key or the private key. */
export function publicKeyFromPem(pem: string): PublicKeyInfo {
  return publicInfo(crypto.createPublicKey(pem));
}

export function generateSigningKeyPem(): string {
  return crypto.generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

const cache = new Map<string, SigningKey>();

/** The service's signing key (generated and persisted on first use when none is configured). */
export function loadSigningKey(cfg: Pick<Config, 'signingKeyPem' | 'stateDir'>): SigningKey {
  const pem = cfg.signingKeyPem ?? loadOrCreateSecret(cfg.stateDir, SIGNING_KEY_FILE, generateSigningKeyPem);
  let key = cache.get(pem);
  if (!key) {
    key = signingKeyFromPem(pem);
    cache.set(pem, key);
  }
  return key;
}

/** The public key of an existing signing key, for verification: never creates one. */
export function existingPublicKey(
  cfg: Pick<Config, 'signingKeyPem' | 'stateDir'>,
): PublicKeyInfo | undefined {
  if (cfg.signingKeyPem) return publicKeyFromPem(cfg.signingKeyPem);
  const file = path.join(cfg.stateDir, SIGNING_KEY_FILE);
  return fs.existsSync(file) ? publicKeyFromPem(fs.readFileSync(file, 'utf8')) : undefined;
}

export function signPayload(key: SigningKey, payload: string): string {
  return crypto.sign(null, Buffer.from(payload, 'utf8'), key.privateKey).toString('base64');
}

export function verifyPayload(key: PublicKeyInfo, payload: string, signatureB64: string): boolean {
  try {
    return crypto.verify(
      null,
      Buffer.from(payload, 'utf8'),
      key.publicKey,
      Buffer.from(signatureB64, 'base64'),
    );
  } catch {
    return false;
  }
}
