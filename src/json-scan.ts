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
import { numberProblem, subject } from './json-numbers.ts';

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
