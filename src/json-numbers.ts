/**
 * Whether a JSON number literal comes back from JSON.parse as the number written (json-scan.ts asks, for each
 * one): beyond the double range, a non-zero literal that becomes 0, an unsafe integer, or more significant
 * digits than a double keeps, each with the message that says what to send instead.
 */

/** How a message names the value at fault: its path, or "The value" at the root. */
export const subject = (path: string) => path || 'The value';

const asString = 'send it as a string to keep it exactly';

/** The significant digits of a decimal literal (positions in its text) and the power of ten of the first. */
interface Shape {
  first: number;
  last: number;
  digits: number;
  /** Scientific exponent: the literal is d.ddd × 10^exp. */
  exp: number;
  integer: boolean;
}

const shapeA: Shape = { first: -1, last: -1, digits: 0, exp: 0, integer: true };

const shapeB: Shape = { first: -1, last: -1, digits: 0, exp: 0, integer: true };

/** Reads `-?digits(.digits)?([eE][+-]?digits)?` (a JSON literal, or what Number#toString writes) into `out`. */
function shapeOf(s: string, start: number, end: number, out: Shape): Shape {
  let i = start;
  if (s.charCodeAt(i) === 0x2d) i++;
  out.first = -1;
  out.last = -1;
  out.digits = 0;
  out.integer = true;
  let point = -1; // the position where the integer part ends
  let c = 0;
  for (; i < end; i++) {
    c = s.charCodeAt(i);
    if (c === 0x2e) {
      point = i;
      out.integer = false;
      continue;
    }
    if (c < 0x30 || c > 0x39) break;
    if (c !== 0x30) {
      if (out.first === -1) out.first = i;
      out.last = i;
    }
  }
  const mantissaEnd = i;
  if (point === -1) point = mantissaEnd;
  let exp = 0;
  if (i < end) {
    out.integer = false;
    i++; // e or E
    let sign = 1;
    c = s.charCodeAt(i);
    if (c === 0x2b || c === 0x2d) {
      if (c === 0x2d) sign = -1;
      i++;
    }
    // Capped: beyond a million the answer (overflow or underflow) is the same.
    for (; i < end; i++) exp = Math.min(exp * 10 + (s.charCodeAt(i) - 0x30), 1e6);
    exp *= sign;
  }
  if (out.first === -1) {
    out.exp = 0;
    return out;
  }
  out.digits = out.last - out.first + 1 - (out.first < point && out.last > point ? 1 : 0);
  out.exp = exp + (out.first < point ? point - out.first - 1 : point - out.first);
  return out;
}

const MAX_SAFE = String(Number.MAX_SAFE_INTEGER);

/** A message for a number literal at `path`. */
export type NumberProblem = (path: string, literal: string) => string;

/** What is wrong with the number literal text[start, end), if anything. */
export function numberProblem(text: string, start: number, end: number): NumberProblem | undefined {
  const lit = shapeOf(text, start, end, shapeA);
  if (lit.first === -1) return undefined; // zero, however written
  if (lit.integer) {
    // An integer literal: only leading-zero-free digits, so its length says its size.
    const len = end - start - (text.charCodeAt(start) === 0x2d ? 1 : 0);
    if (len < MAX_SAFE.length) return undefined;
    if (len > MAX_SAFE.length || text.slice(end - len, end) > MAX_SAFE) return unsafeInteger;
    return undefined;
  }
  // Up to 15 significant digits in the normal range always come back as written (DBL_DIG).
  if (lit.digits <= 15 && lit.exp >= -307 && lit.exp <= 307) return undefined;
  const written = text.slice(start, end);
  const value = Number(written);
  if (!Number.isFinite(value)) return overflow;
  if (value === 0) return underflow;
  const shown = String(value);
  if (shown === written) return undefined; // already the shortest form, as JSON serializers write it
  const back = shapeOf(shown, 0, shown.length, shapeB);
  if (back.digits !== lit.digits || back.exp !== lit.exp) return inexact(shown);
  for (let i = lit.first, j = back.first, k = 0; k < lit.digits; i++, j++) {
    if (text.charCodeAt(i) === 0x2e) i++;
    if (shown.charCodeAt(j) === 0x2e) j++;
    if (text.charCodeAt(i) !== shown.charCodeAt(j)) return inexact(shown);
    k++;
  }
  return undefined;
}

// --- Messages (also used for parsed values, see ingest/validate.ts) ---------------------------------------

const overflow: NumberProblem = (path, literal) =>
  `${subject(path)} is ${literal}, beyond the range of a JSON number (±1.7976931348623157e308); ${asString}`;

const underflow: NumberProblem = (path, literal) =>
  `${subject(path)} is ${literal}, too close to 0 for a JSON number (it would be stored as 0); ${asString}`;

const unsafeInteger: NumberProblem = (path, literal) =>
  `${subject(path)} is ${literal}, an integer beyond ±${MAX_SAFE} (2^53 - 1), which JSON numbers do not keep ` +
  `exactly; ${asString}`;

const inexact =
  (stored: string): NumberProblem =>
  (path, literal) =>
    `${subject(path)} is ${literal}, which has more significant digits than a JSON number keeps (it would be ` +
    `stored as ${stored}); ${asString}`;
