/**
 * Seals and signed checkpoints. A seal covers one batch of an org's events; it is chained to the previous
 * seal by `prevSealHash` and signed, so every seal is also a checkpoint a customer can keep:
 *
 *   sealHash  = SHA-256(JCS({ orgId, seq, count, firstAcceptedAt, lastAcceptedAt, root, prevSealHash, sealedAt }))
 *   signature = Ed25519(JCS(checkpoint without `signature`))            (base64)
 *
 * `prevSealHash` of seq 1 is null. The seal document adds what proofs and verification need to find the
 * events (`eventIds`, in leaf order) and to build audit paths without re-reading them (the leaves and
 * storedHashes, packed: SealDoc); those lists are covered by `root`, not by the signature directly.
 */
import { canonical, sha256 } from './leaf.ts';
import type { Keyring } from './keyring.ts';
import { signPayload, verifyPayload, type PublicKeyInfo, type SigningKey } from './signing.ts';
import { Checkpoint, SealCore } from '../store/seal-doc.ts';
import { ajv } from '../validation.ts';

// The seal document's shape and packing belong to the store; re-exported for the domain's readers.
export {
  Checkpoint,
  packSeal,
  SealCore,
  sealId,
  unpackSeal,
  type Seal,
  type SealDoc,
  type SealHead,
} from '../store/seal-doc.ts';

const validateCheckpoint = ajv.compile(Checkpoint);

/** Parses a checkpoint (e.g. a file a SIEM saved); throws naming what is wrong. */
export function parseCheckpoint(value: unknown): Checkpoint {
  if (!validateCheckpoint(value)) {
    const why = (validateCheckpoint.errors ?? [])
      .map((e) => `${e.instancePath || '/'} ${e.message}`)
      .join('; ');
    throw new Error(`not a checkpoint: ${why}`);
  }
  return value;
}

/** `value` with only the fields `schema` lists, in its order: the fields of a checkpoint are the schema's. */
function fieldsOf<T>(schema: { properties: object }, value: object): T {
  const v = value as Record<string, unknown>;
  return Object.fromEntries(Object.keys(schema.properties).map((k) => [k, v[k]])) as T;
}

export function sealHashOf(core: SealCore): string {
  return sha256(canonical(fieldsOf<SealCore>(SealCore, core))).toString('hex');
}

/** The checkpoint part of a seal (drops the lists and anything else). */
export function checkpointOf(seal: Checkpoint): Checkpoint {
  return fieldsOf<Checkpoint>(Checkpoint, seal);
}

function signedBytes(cp: Omit<Checkpoint, 'signature'>): string {
  const { signature: _drop, ...rest } = checkpointOf({ ...cp, signature: '' });
  return canonical(rest);
}

/** Completes a seal core into a signed checkpoint. */
export function signCheckpoint(core: SealCore, key: SigningKey): Checkpoint {
  const unsigned = { ...core, sealHash: sealHashOf(core), keyId: key.keyId };
  return { ...unsigned, signature: signPayload(key, signedBytes(unsigned)) };
}

/** True when the checkpoint's signature is valid under `key` (the key id must match too). */
export function checkpointSignatureValid(cp: Checkpoint, key: PublicKeyInfo): boolean {
  return cp.keyId === key.keyId && verifyPayload(key, signedBytes(cp), cp.signature);
}

/** True when a key of `ring` whose window holds the seal's `sealedAt` signed it as it is. */
export function sealSignedInWindow(cp: Checkpoint, ring: Keyring): boolean {
  const key = ring.validKey(cp.keyId, cp.sealedAt);
  return key !== undefined && checkpointSignatureValid(cp, key);
}
