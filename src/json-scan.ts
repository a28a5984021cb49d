/**
 * A strict second look at request JSON that JSON.parse has already accepted: what JSON.parse silently changes
 * or what breaks our readers later. One pass over the text (charCodeAt, strings skipped with indexOf), no
 * recursion, an explicit stack bounded by the depth limit. It reports, with the path at fault:
 * - a key twice in one object (JSON.parse keeps the last one);
 * - a number whose double is not the number written: beyond ±1.7976931348623157e308 (Infinity), a non-zero
 *   literal that becomes 0, an integer literal beyond ±(2^53−1), more significant digits than a double keeps;
 * - nesting deeper than `maxDepth` below a record (e.g. the event object: its metadata is level 1);
 * - the keys secure-json-parse refuses when OpenSearch answers (the client parses every response with it): a
 *   `__proto__` key, and a `constructor` key whose value is null or an object with a `prototype` key.
 * Values that are the same number written otherwise (`5.0`, `1e2`, `-0`) pass.
 */

/** How deep objects and arrays may nest below a record; an event's metadata object is level 1. */
export const MAX_DEPTH = 20;

export interface JsonProblem {
  /**
   * The element of the `batchKey` array the problem lies in (counted from 0), or -1: elsewhere in the text
   * (then `path` starts at the root).
   */
  record: number;
  /** Where, inside its record (or the root): `metadata.a[2].__proto__`; '' for the record itself. */
  path: string;
  /** A sentence that starts with the path (or "The value"), saying what to send instead. */
  message: string;
}

export interface ScanOptions {
  /**
   * A key of the root object whose array holds records (`events`): problems in its elements are reported per
   * element, and depth counts from each element. Without it the root is the only record and the scan stops at
   * its first problem.
   */
  batchKey?: string;
  maxDepth?: number;
}

interface Frame {
  array: boolean;
  /** Array: index of the current element. */
  index: number;
  /** Object: the current key, and whether the next string is a key. */
  key: string;
  expectKey: boolean;
  /** Keys seen so far: a list while short, a set past SET_AFTER. */
  keys: string[];
  set: Set<string> | undefined;
  useSet: boolean;
  /** This object is the value of a `constructor` key. */
  ctorValue: boolean;
  /** This array is the root's `batchKey` array: its elements are records. */
  records: boolean;
}

const SET_AFTER = 12;
const MAX_SHOWN = 60;

const shorten = (s: string) => (s.length > MAX_SHOWN ? `${s.slice(0, MAX_SHOWN)}…` : s);

function newFrame(): Frame {
  return {
    array: false,
    index: 0,
    key: '',
    expectKey: false,
    keys: [],
    set: undefined,
    useSet: false,
    ctorValue: false,
    records: false,
  };
}

/** The problems in `text`, which must be JSON that JSON.parse accepted: at most one per record. */
export function scanJson(text: string, opts: ScanOptions = {}): JsonProblem[] {
  const maxDepth = opts.maxDepth ?? MAX_DEPTH;
  const batchKey = opts.batchKey;
  const stack: Frame[] = [];
  let top = -1; // index of the innermost open container in `stack`
  const problems: JsonProblem[] = [];
  let failedRecord = -2; // the record that already has a problem (its other problems are not reported)
  const n = text.length;
  let pos = 0;

  /** The record the current position lies in, and the stack index its path starts at. */
  const recordAt = (): [number, number] => (top >= 1 && stack[1]!.records ? [stack[1]!.index, 2] : [-1, 0]);

  const pathFrom = (base: number, upTo: number): string => {
    let path = '';
    for (let s = base; s <= upTo; s++) {
      const f = stack[s]!;
      if (f.array) path += `[${f.index}]`;
      else {
        path += path ? `.${shorten(f.key)}` : shorten(f.key);
      }
    }
    return path;
  };

  /** Records a problem at the current position (its path ends `drop` frames early); true: stop scanning. */
  const report = (describe: (path: string) => string, drop = 0): boolean => {
    const [record, base] = recordAt();
    if (record === failedRecord) return false;
    const path = pathFrom(base, top - drop);
    problems.push({ record, path, message: describe(path) });
    failedRecord = record;
    return record === -1;
  };

  while (pos < n) {
    let c = text.charCodeAt(pos);
    // whitespace
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
      pos++;
      continue;
    }
    const frame = top >= 0 ? stack[top]! : undefined;
    if (c === 0x2c /* , */) {
      if (frame!.array) frame!.index++;
      else frame!.expectKey = true;
      pos++;
      continue;
    }
    if (c === 0x3a /* : */) {
      pos++;
      continue;
    }
    if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      top--;
      pos++;
      continue;
    }
    if (c === 0x22 /* " */) {
      const start = pos + 1;
      pos = stringEnd(text, start);
      if (frame && !frame.array && frame.expectKey) {
        frame.expectKey = false;
        const raw = text.slice(start, pos);
        const key = raw.indexOf('\\') === -1 ? raw : (JSON.parse(`"${raw}"`) as string);
        frame.key = key;
        let duplicate: boolean;
        if (frame.useSet) {
          duplicate = frame.set!.has(key);
          frame.set!.add(key);
        } else {
          duplicate = frame.keys.includes(key);
          frame.keys.push(key);
          if (frame.keys.length > SET_AFTER) {
            frame.set ??= new Set();
            for (const k of frame.keys) frame.set.add(k);
            frame.useSet = true;
          }
        }
        if (duplicate && report(duplicateKey)) return problems;
        if (key === '__proto__' && report(protoKey)) return problems;
        if (key === 'prototype' && frame.ctorValue && report(constructorKey, 1)) return problems;
      }
      pos++;
      continue;
    }
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      // The container about to open sits at stack index top + 1; the record's own object is level 0.
      if (top + 1 - recordAt()[1] > maxDepth) {
        if (report((path) => tooDeep(path, maxDepth))) return problems;
        pos = valueEnd(text, pos);
        continue;
      }
      const opened = stack[++top] ?? (stack[top] = newFrame());
      opened.array = c === 0x5b;
      opened.index = 0;
      opened.key = '';
      opened.expectKey = !opened.array;
      opened.keys.length = 0;
      if (opened.useSet) {
        opened.set!.clear();
        opened.useSet = false;
      }
      opened.ctorValue = !opened.array && frame !== undefined && !frame.array && frame.key === 'constructor';
      opened.records =
        opened.array && top === 1 && batchKey !== undefined && !frame!.array && frame!.key === batchKey;
      pos++;
      continue;
    }
    if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      const start = pos;
      pos++;
      while (pos < n) {
        c = text.charCodeAt(pos);
        if ((c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === 0x2d)
          pos++;
        else break;
      }
      const problem = numberProblem(text, start, pos);
      if (problem && report((path) => problem(path, shorten(text.slice(start, pos))))) return problems;
      continue;
    }
    // true, false, null
    if (c === 0x6e /* n */ && frame && !frame.array && frame.key === 'constructor' && report(constructorKey))
      return problems;
    pos += c === 0x66 /* f */ ? 5 : 4;
  }
  return problems;
}

/** Index of the quote that closes the string whose text starts at `start`. */
function stringEnd(text: string, start: number): number {
  let q = text.indexOf('"', start);
  for (;;) {
    let backslashes = 0;
    while (text.charCodeAt(q - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0 || q === -1) return q === -1 ? text.length : q;
    q = text.indexOf('"', q + 1);
  }
}

/** Index just past the object or array that opens at `pos`. */
function valueEnd(text: string, pos: number): number {
  let open = 0;
  const n = text.length;
  while (pos < n) {
    const c = text.charCodeAt(pos);
    if (c === 0x22) pos = stringEnd(text, pos + 1);
    else if (c === 0x7b || c === 0x5b) open++;
    else if (c === 0x7d || c === 0x5d) {
      open--;
      if (open === 0) return pos + 1;
    }
    pos++;
  }
  return n;
}

// --- Numbers -----------------------------------------------------------------------------------------

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

type NumberProblem = (path: string, literal: string) => string;

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

const subject = (path: string) => path || 'The value';
const asString = 'send it as a string to keep it exactly';

export const duplicateKey = (path: string) =>
  `${subject(path)} is given twice in the same object; JSON keeps only one of them, so send each key once`;
export const protoKey = (path: string) =>
  `${subject(path)}: "__proto__" is not accepted as a key (JSON parsers treat it as the object's prototype); rename it`;
export const constructorKey = (path: string) =>
  `${subject(path)}: a "constructor" key holding null or an object with a "prototype" key is not accepted ` +
  `(JSON parsers refuse it as prototype pollution); rename it`;
export const tooDeep = (path: string, max = MAX_DEPTH) =>
  `${subject(path)} nests objects and arrays deeper than ${max} levels (metadata itself is level 1); ` +
  `at most ${max} are allowed`;
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

/** Half of a UTF-16 surrogate pair without its other half: JSON.parse accepts its `\\uD800` escape. */
export const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export const loneSurrogate = (path: string) =>
  `${path} holds a lone UTF-16 surrogate (half of an emoji or other character); send well-formed Unicode text`;

/**
 * The path of the first string or key of a parsed JSON value holding a lone surrogate ('' for the value
 * itself), or undefined. Such text has no UTF-8 form: it can be neither canonicalized nor stored as sent.
 */
export function loneSurrogateAt(value: unknown): string | undefined {
  const pending: [unknown, string][] = [[value, '']];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [v, path] = next;
    if (typeof v === 'string') {
      if (LONE_SURROGATE.test(v)) return path;
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) pending.push([v[i], `${path}[${i}]`]);
    } else if (v !== null && typeof v === 'object') {
      for (const [k, child] of Object.entries(v).reverse()) {
        const at = path ? `${path}.${k}` : k;
        if (LONE_SURROGATE.test(k)) return at;
        pending.push([child, at]);
      }
    }
  }
  return undefined;
}
