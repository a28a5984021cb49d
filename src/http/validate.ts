/**
 * JSON request bodies (and path parameters) checked with ajv against TypeBox schemas, compiled once at module
 * load. A failure becomes a 400 from the error catalogue whose `param` names the offending field, so the
 * caller can fix the call without guessing. Unknown fields are refused (schemas use additionalProperties:false).
 */
import type { Static, TObject, TSchema } from '@sinclair/typebox';
import type { ErrorObject } from 'ajv';
import { ajv } from '../validation.ts';
import { errors, type ApiError } from './errors.ts';

/** Plain decimal integers only: no sign, exponent, fraction, radix prefix, spaces or leading zeros. */
export const PLAIN_INTEGER = /^(0|[1-9][0-9]*)$/;

/**
 * `queryValidator(Schema)` → a function that types a query string (values are text) by the schema in place
 * and returns its first error, or undefined. An integer parameter is taken only as a plain decimal and a
 * boolean only as `true`/`false`; any other text stays text, so the schema refuses it (ajv's own coercion
 * would read `0x10`, `1e2`, `+5`, `5.0`, `0b11` or ` 5` as numbers).
 */
export function queryValidator<T extends TObject>(
  schema: T,
): (query: Record<string, unknown>) => ErrorObject | undefined {
  const validate = ajv.compile<Static<T>>(schema);
  const props = schema.properties as Record<string, { type?: unknown; default?: unknown }>;
  return (query) => {
    for (const [name, p] of Object.entries(props))
      if (query[name] === undefined && 'default' in p) query[name] = p.default;
    for (const [name, value] of Object.entries(query)) {
      const type = Object.hasOwn(props, name) ? props[name]!.type : undefined;
      if (typeof value !== 'string') continue;
      if (type === 'integer' && PLAIN_INTEGER.test(value)) query[name] = Number(value);
      else if (type === 'boolean' && (value === 'true' || value === 'false')) query[name] = value === 'true';
    }
    return validate(query) ? undefined : validate.errors?.[0];
  };
}

/** Where the value came from: a JSON body (400 invalid_body) or the URL path (400 invalid_parameter). */
export type Source = 'body' | 'path';

/** `validator(Schema)` → a function that returns the value typed by the schema, or throws a 400 naming the field. */
export function validator<T extends TSchema>(
  schema: T,
  source: Source = 'body',
): (value: unknown) => Static<T> {
  const validate = ajv.compile<Static<T>>(schema);
  return (value) => {
    if (validate(value)) return value;
    throw toApiError(validate.errors?.[0], source);
  };
}

function toApiError(err: ErrorObject | undefined, source: Source): ApiError {
  const at = err ? err.instancePath.split('/').slice(1).join('.') : '';
  const join = (name: string) => (at ? `${at}.${name}` : name);
  let param: string | undefined = at || undefined;
  let message: string;
  switch (err?.keyword) {
    case 'additionalProperties':
      param = join(String(err.params.additionalProperty));
      message = `Unknown field "${param}"; remove it (see the README for the accepted fields).`;
      break;
    case 'required':
      param = join(String(err.params.missingProperty));
      message = `"${param}" is required.`;
      break;
    case 'enum':
      message = `"${param}" must be one of: ${(err.params.allowedValues as unknown[]).join(', ')}.`;
      break;
    case 'type':
      message = param
        ? `"${param}" must be ${err.params.type}.`
        : `The ${source} must be a JSON ${err.params.type}.`;
      break;
    default:
      message = `"${param ?? source}" ${err?.message ?? 'is invalid'}.`;
  }
  return source === 'path'
    ? errors.invalidParam(param ?? 'path', message)
    : errors.invalidBody(message, param);
}
