/**
 * What every push destination shares about reaching its receiver: the optional private CA of its settings,
 * and one reading of a failed connection as a SendResult (a refused address or an untrusted certificate will
 * not change by retrying; a reset or a timeout may).
 */
import { Type } from '@sinclair/typebox';
import { AddressRefused } from './address-guard.ts';
import type { SendResult } from './destination.ts';

/** A PEM of the CA that signed the receiver's certificate, when it is not a public one (replaces the defaults). */
export const PrivateCa = Type.String({
  minLength: 1,
  maxLength: 65_536,
  pattern: '-----BEGIN CERTIFICATE-----',
  description: 'PEM of a private CA that signed the receiver certificate; TLS verification stays on',
});

/** Node's codes for a certificate that does not verify (untrusted, expired, wrong host name). */
const CERTIFICATE_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** A failure to reach `where` (host:port) as the SendResult the delivery loop acts on. */
export function connectionFailure(err: unknown, where: string, signal: AbortSignal): SendResult {
  if (err instanceof AddressRefused) return { ok: false, retryable: false, error: `refused: ${err.message}` };
  if (signal.aborted) return { ok: false, retryable: true, error: `${where}: no answer before the deadline` };
  const code = (err as NodeJS.ErrnoException).code ?? '';
  const message = err instanceof Error ? err.message : String(err);
  if (CERTIFICATE_CODES.has(code)) {
    return {
      ok: false,
      retryable: false,
      error: `${where}: TLS certificate not trusted (${code}: ${message})`,
    };
  }
  return { ok: false, retryable: true, error: `${where}: ${code ? `${code}: ` : ''}${message}` };
}
