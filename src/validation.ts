/**
 * The service's one Ajv instance: every schema (request bodies, path and query parameters, events,
 * checkpoints) is compiled on it, once, at module load. Strict schemas and no coercion (query strings are
 * typed by src/query-string.ts). First error only: collecting every error would let one hostile input cost
 * as many errors as it has faults, and every caller reports one fault anyway.
 */
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS: under ESM the plugin is the `default` of the module object.
const addFormats = addFormatsModule.default;

export const ajv = new Ajv({ allErrors: false, strict: true, coerceTypes: false });
addFormats(ajv, ['email', 'date', 'date-time', 'ipv4', 'ipv6']);
