/** Request bodies as text, and the strict JSON check (json-scan.ts) for the bodies express.json parses. */
import { isUtf8 } from 'node:buffer';
import type { Request } from 'express';
import { loneSurrogate, loneSurrogateAt, scanJson } from '../json-scan.ts';
import { errors } from './api-errors.ts';

/** A request body as text, refusing bytes that are not UTF-8 (decoding would replace them silently). */
export function utf8Text(body: Buffer): string {
  if (!isUtf8(body)) throw errors.invalidBody('The body is not valid UTF-8; send UTF-8 text.', 'body');
  return body.toString('utf8');
}

/** Refuses a declared charset other than UTF-8 (415): the body is read as UTF-8, another would be altered. */
export function requireUtf8Charset(charset: string | undefined): void {
  const name = charset?.toLowerCase();
  if (name && name !== 'utf-8' && name !== 'utf8') throw errors.unsupportedCharset(charset!);
}

/**
 * body-parser's `verify` hook for express.json: the same strictness for the bodies it parses (the operator
 * API). Text that is not JSON at all is left to express.json to report.
 */
export function verifyStrictJson(_req: unknown, _res: unknown, body: Buffer, charset: string): void {
  requireUtf8Charset(charset);
  const text = utf8Text(body);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return;
  }
  const problem = scanJson(text)[0];
  if (problem) throw errors.invalidBody(problem.message, problem.path || undefined);
  const at = loneSurrogateAt(parsed);
  if (at !== undefined) throw errors.invalidBody(loneSurrogate(at || 'The value'), at || undefined);
}

/** The parsed JSON body; express.json leaves it undefined for another or no Content-Type. */
export function jsonBody(req: Request, optional = false): unknown {
  if (req.body !== undefined) return req.body;
  const empty = (req.headers['content-length'] ?? '0') === '0' && !req.headers['transfer-encoding'];
  if (optional && empty) return {};
  throw errors.invalidBody('Send the body as a JSON object with "Content-Type: application/json".');
}
