/**
 * The service's one Ajv instance: every schema (request bodies, path and query parameters, events,
 * checkpoints) is compiled on it, once, at module load. Strict schemas and no coercion (query strings are
 * typed by src/query-string.ts). First error only: collecting every error would let one hostile input cost
 * as many errors as it has faults, and every caller reports one fault anyway.
 *
 * `validator(Schema)` checks JSON bodies and path parameters: a failure is an InvalidInput whose `param` names
 * the offending field (the API answers 400 invalid_body / invalid_parameter). Unknown fields are refused
 * (schemas use additionalProperties:false).
 */
import type { Static, TSchema } from '@sinclair/typebox';
import { Ajv, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { InvalidInput } from './errors.ts';

// ajv-formats is CommonJS: under ESM the plugin is the `default` of the module object.
const addFormats = addFormatsModule.default;

export const ajv = new Ajv({ allErrors: false, strict: true, coerceTypes: false });
addFormats(ajv, ['email', 'date', 'date-time', 'ipv4', 'ipv6']);

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
    throw invalidInput(validate.errors?.[0], source);
  };
}

function invalidInput(err: ErrorObject | undefined, source: Source): InvalidInput {
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
    ? new InvalidInput(message, param ?? 'path', 'parameter')
    : new InvalidInput(message, param, 'body');
}
