/**
 * JSON request bodies (and path parameters) checked with the service's Ajv instance against TypeBox schemas,
 * compiled once at module load (query strings: src/query-string.ts). A failure becomes a 400 from the error
 * catalogue whose `param` names the offending field, so the caller can fix the call without guessing. Unknown
 * fields are refused (schemas use additionalProperties:false).
 */
import type { Static, TSchema } from '@sinclair/typebox';
import type { ErrorObject } from 'ajv';
import { ajv } from '../validation.ts';
import { errors, type ApiError } from './errors.ts';

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
