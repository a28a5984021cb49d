/**
 * The one parser of query strings: an object schema and a hint per parameter in, the typed value out. Every
 * GET route uses it, so the same mistake gets the same answer everywhere:
 * - a name the schema does not have → UnknownParameter (400 unknown_parameter naming it);
 * - a name given twice → "<name> was given more than once", unless it is a list parameter
 *   (`action=a&action=b` means `action=a,b`);
 * - a value the schema refuses → InvalidInput naming the parameter, with its hint.
 * An integer is taken only as a plain decimal and a boolean only as `true`/`false`; any other text stays text,
 * so the schema refuses it (ajv's own coercion would read `0x10`, `1e2`, `+5`, `5.0`, `0b11` or ` 5` as
 * numbers). An absent parameter gets the schema's default.
 */
import { Type, type Static, type TObject } from '@sinclair/typebox';
import { InvalidInput, UnknownParameter } from './errors.ts';
import { ajv } from './validation.ts';

/** Plain decimal integers only: no sign, exponent, fraction, radix prefix, spaces or leading zeros. */
const PLAIN_INTEGER = /^(0|[1-9][0-9]*)$/;

/** What to tell the caller when a parameter's value is refused; a function is given the text as sent. */
export type Hints = Record<string, string | ((given: string) => string)>;

export interface QueryOptions {
  hints: Hints;
  /** Parameters that may be repeated, meaning the same as one comma-separated value. */
  lists?: readonly string[];
}

/** `queryParser(Schema, { hints })` → a function from a parsed query string to the value the schema types. */
export function queryParser<T extends TObject>(
  schema: T,
  { hints, lists = [] }: QueryOptions,
): (raw: Record<string, unknown>) => Static<T> {
  const validate = ajv.compile<Static<T>>(schema);
  const props = schema.properties as Record<string, { type?: unknown; default?: unknown }>;
  return (raw) => {
    for (const name of Object.keys(raw)) {
      if (!Object.hasOwn(props, name)) throw new UnknownParameter(name);
    }
    const given: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(raw)) {
      if (!Array.isArray(value)) given[name] = value;
      else if (lists.includes(name)) given[name] = value.join(',');
      else throw new InvalidInput(`${name} was given more than once; give it once.`, name);
    }
    const query: Record<string, unknown> = {};
    for (const [name, { type, ...p }] of Object.entries(props)) {
      const value = given[name];
      if (value === undefined) {
        if ('default' in p) query[name] = p.default;
      } else if (typeof value !== 'string') query[name] = value;
      else if (type === 'integer' && PLAIN_INTEGER.test(value)) query[name] = Number(value);
      else if (type === 'boolean' && (value === 'true' || value === 'false')) query[name] = value === 'true';
      else query[name] = value;
    }
    if (validate(query)) return query;
    const err = validate.errors?.[0];
    const missing = err?.keyword === 'required' ? String(err.params.missingProperty) : undefined;
    if (missing) throw new InvalidInput(`${missing} is required.`, missing);
    const param = err?.instancePath.split('/')[1] ?? '';
    const hint = hints[param];
    const message =
      typeof hint === 'function'
        ? hint(String(given[param]))
        : (hint ?? `${param} ${err?.message ?? 'is invalid'}.`);
    throw new InvalidInput(message, param);
  };
}

/** For routes that take no query parameters: any name is an unknown one. */
export const noQuery = queryParser(Type.Object({}, { additionalProperties: false }), { hints: {} });
