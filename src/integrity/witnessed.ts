/**
 * What a witness says it cosigned for an org, read from its monitoring endpoint (`GET <url>/<sha256 hex of
 * the origin>/checkpoint`, as npm run witness serves it) and believed only when the witness's cosignature
 * and a log key's signature both verify. npm run verify --witness checks the org's tree passes through it.
 */
import crypto from 'node:crypto';
import type { Keyring } from './keyring.ts';
import { parseCheckpointText, parseVerifierKey, verifyNote } from './note.ts';
import { logVerifier } from './org-tree.ts';
import type { Witnessed } from './verify-tree.ts';

const TIMEOUT_MS = 10_000;

/** The checkpoint `witness` cosigned last for `origin`, or undefined when it has none. Throws naming why not. */
export async function witnessedCheckpoint(
  witness: { url: string; verifierKey: string },
  origin: string,
  ring: Keyring,
): Promise<Witnessed | undefined> {
  const cosigner = parseVerifierKey(witness.verifierKey);
  const hash = crypto.createHash('sha256').update(origin).digest('hex');
  const res = await fetch(`${witness.url.replace(/\/$/, '')}/${hash}/checkpoint`, {
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  if (res.status === 404) return undefined;
  if (!res.ok) throw new Error(`witness ${witness.url} answered ${res.status}`);
  const note = await res.text();
  const logKeys = ring.keys.map((k) => logVerifier(origin, k));
  const { text, valid } = verifyNote(note, [cosigner, ...logKeys]);
  if (!valid.has(cosigner.name))
    throw new Error(`witness ${witness.url}: its checkpoint has no valid cosignature`);
  if (valid.size < 2)
    throw new Error(`witness ${witness.url}: its checkpoint has no valid signature of the log`);
  const cp = parseCheckpointText(text);
  if (cp.origin !== origin)
    throw new Error(`witness ${witness.url} answered for ${cp.origin}, not ${origin}`);
  return { witness: cosigner.name, size: cp.size, root: cp.root.toString('base64') };
}
