// Types of proof.js for the tests that run it in Node.
export type SealCheck =
  | { state: 'verified'; keyId: string }
  | { state: 'mismatch'; reason: string }
  | { state: 'unchecked'; reason: string };
export const ENTRY_FIELDS: readonly string[];
export function leafOf(entry: object, storedHash: string): Promise<string>;
export function checkSealed(entries: object[], proof: unknown, publicKey: unknown): Promise<SealCheck>;
