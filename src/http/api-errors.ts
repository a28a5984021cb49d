/**
 * The error catalogue: every error the API answers with has a stable code, an HTTP status and a message a
 * person can act on. Routes throw `ApiError`s (`throw errors.invalidParam('limit', '...')`); the domain and
 * the store throw the errors of src/errors.ts, which `toApiError` maps here; the error middleware in app.ts
 * turns either into `{ error, code, param? }`.
 */
import {
  Conflict,
  Forbidden,
  IntegrityBroken,
  InvalidCursor,
  InvalidInput,
  NotFound,
  StorageFull,
  StoreUnavailable,
  UnknownParameter,
} from '../errors.ts';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly param?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  toJSON() {
    return { error: this.message, code: this.code, ...(this.param ? { param: this.param } : {}) };
  }
}

/** A body limit as people write it: 5 MB, 64 KB. */
const sizeText = (bytes: number) =>
  bytes >= 1024 * 1024 ? `${+(bytes / 1024 / 1024).toFixed(1)} MB` : `${Math.round(bytes / 1024)} KB`;

export const errors = {
  // --- Requests ---------------------------------------------------------------------------------
  invalidParam: (param: string, message: string) => new ApiError(400, 'invalid_parameter', message, param),
  unknownParam: (param: string) =>
    new ApiError(
      400,
      'unknown_parameter',
      `Unknown parameter "${param}"; see the README for the accepted ones.`,
      param,
    ),
  invalidBody: (message: string, param?: string) => new ApiError(400, 'invalid_body', message, param),
  /** `advice`: what to send instead, in the terms of the route (ingest's events by default). */
  bodyTooLarge: (limitBytes: number, advice = 'send fewer events per request') =>
    new ApiError(
      413,
      'body_too_large',
      `The request body is larger than ${sizeText(limitBytes)}; ${advice}.`,
    ),
  unsupportedContentEncoding: (encoding: string) =>
    new ApiError(
      415,
      'unsupported_content_encoding',
      `Content-Encoding "${encoding}" is not accepted; send the body as it is (identity) or compressed once ` +
        'with one of gzip, deflate or br.',
      'Content-Encoding',
    ),
  undecodableBody: (encoding: string, detail: string) =>
    new ApiError(
      400,
      'invalid_content_encoding',
      `The body does not decode as Content-Encoding "${encoding}" (${detail}); nothing from this request was ` +
        'written.',
      'Content-Encoding',
    ),
  unsupportedCharset: (charset: string) =>
    new ApiError(
      415,
      'unsupported_charset',
      `charset "${charset}" is not accepted; send the body as UTF-8.`,
      'Content-Type',
    ),
  unsupportedMediaType: (type: string) =>
    new ApiError(
      415,
      'unsupported_media_type',
      `Content-Type "${type}" is not accepted; send application/json or application/x-ndjson.`,
    ),
  bodyTimeout: (seconds: number) =>
    new ApiError(
      408,
      'body_timeout',
      `The request body did not arrive within ${seconds} s; nothing from this request was stored. Send it ` +
        'again on a faster connection, or in smaller batches.',
      undefined,
      { Connection: 'close' },
    ),
  tooManyEvents: (count: number, max: number) =>
    new ApiError(
      400,
      'too_many_events',
      `The request holds ${count} events; send at most ${max} per request.`,
      'events',
    ),
  invalidNdjsonLine: (line: number, detail: string) =>
    new ApiError(
      400,
      'invalid_ndjson',
      `Line ${line} of the NDJSON body is not valid JSON (${detail}); nothing from this request was written.`,
      `line ${line}`,
    ),
  /** A single posted event that was rejected; `message` starts with the field at fault. */
  invalidEvent: (message: string, param?: string) => new ApiError(400, 'invalid_event', message, param),
  invalidCursor: (param = 'cursor') =>
    new ApiError(
      400,
      'invalid_cursor',
      'The cursor is not one this server issued for this query (forged, truncated, edited, or used with other ' +
        'filters). Start again without a cursor, or pass the nextCursor of the previous page unchanged with ' +
        'the same filters.',
      param,
    ),

  // --- Authentication and access --------------------------------------------------------------------
  unauthenticated: (message = 'Missing or unknown API key. Send "Authorization: Bearer <api-key>".') =>
    new ApiError(401, 'unauthenticated', message, undefined, {
      'WWW-Authenticate': 'Bearer realm="audit-logs"',
    }),
  malformedAuthorization: () =>
    new ApiError(
      400,
      'invalid_request',
      'The Authorization header is malformed; it must be "Bearer <api-key>".',
      undefined,
      { 'WWW-Authenticate': 'Bearer realm="audit-logs", error="invalid_request"' },
    ),
  forbidden: (message: string, param?: string) => new ApiError(403, 'forbidden', message, param),
  ingestKeyRequired: () =>
    new ApiError(
      403,
      'ingest_key_required',
      'Writing events needs an ingest key; create one with POST /api/v1/admin/ingest-keys (or npm run admin).',
    ),
  featureDisabled: (message: string) => new ApiError(403, 'audit_logs_not_enabled', message),
  operatorApiDisabled: () =>
    new ApiError(
      404,
      'operator_api_disabled',
      'The operator API is disabled; set AUDIT_ADMIN_TOKEN to enable it.',
    ),

  // --- Resources ------------------------------------------------------------------------------------
  notFound: (what: string) => new ApiError(404, 'not_found', `${what} was not found.`),
  routeNotFound: (method: string, path: string) =>
    new ApiError(404, 'route_not_found', `No route ${method} ${path}; see the README for the API.`),
  conflict: (message: string, param?: string) => new ApiError(409, 'conflict', message, param),

  // --- Limits and availability --------------------------------------------------------------------------
  rateLimited: (retryAfterSeconds: number) =>
    new ApiError(
      429,
      'rate_limited',
      `Too many requests for this API key; retry after ${retryAfterSeconds} s.`,
      undefined,
      { 'Retry-After': String(retryAfterSeconds) },
    ),
  /** `read`: the request changes nothing, so only its answer is missing; `write`: nothing was acknowledged. */
  storageUnavailable: (during: 'read' | 'write' = 'write', retryAfterSeconds = 5) =>
    new ApiError(
      503,
      'storage_unavailable',
      during === 'write'
        ? 'The audit store (OpenSearch) is unavailable; nothing from this request was acknowledged. Retry later.'
        : 'The audit store (OpenSearch) is unavailable, so this request could not be answered. Retry later.',
      undefined,
      { 'Retry-After': String(retryAfterSeconds) },
    ),
  storageFull: (during: 'read' | 'write' = 'write', retryAfterSeconds = 30) =>
    new ApiError(
      503,
      'storage_full',
      'The audit store (OpenSearch) is out of disk space and refuses writes' +
        (during === 'write' ? '; nothing from this request was acknowledged' : '') +
        '. Retry later: writes resume once an operator frees disk space.',
      undefined,
      { 'Retry-After': String(retryAfterSeconds) },
    ),
  requestTimedOut: (seconds: number, retryAfterSeconds = 5) =>
    new ApiError(
      503,
      'storage_timeout',
      `The audit store (OpenSearch) did not answer within ${seconds} s; this request was not completed ` +
        '(events of a write may or may not have been stored: retrying the same ids is safe). Retry later.',
      undefined,
      { 'Retry-After': String(retryAfterSeconds) },
    ),
  ingestBusy: (limit: number) =>
    new ApiError(
      503,
      'ingest_busy',
      `This instance is at its limit of ingest requests being read or written (${limit} written at once, ` +
        'fewer while its memory is high, one key beyond half only while others have room); nothing from this ' +
        'request was stored. Retry shortly.',
      undefined,
      { 'Retry-After': '1' },
    ),
  exportBusy: (limit: number) =>
    new ApiError(
      503,
      'export_busy',
      `This instance is at its limit of concurrent exports (${limit}, one key beyond half only while others have room). ` +
        'Retry shortly.',
      undefined,
      { 'Retry-After': '5' },
    ),
  streamBusy: (limit: number) =>
    new ApiError(
      503,
      'stream_busy',
      `This instance is at its limit of stream pages being answered at once (${limit}, one key beyond half ` +
        'only while others have room). Retry shortly with the same cursor.',
      undefined,
      { 'Retry-After': '1' },
    ),
  integrityBroken: (message: string) =>
    new ApiError(
      500,
      'integrity_error',
      `${message} The stored audit trail does not match its seals; an operator should run \`npm run verify\`.`,
    ),
  internal: () =>
    new ApiError(500, 'internal_error', 'Something went wrong on our side; it has been logged.'),
  tooManyFailedAuthentications: (retryAfterSeconds: number) =>
    new ApiError(
      429,
      'rate_limited',
      `Too many failed authentications from this address; retry after ${retryAfterSeconds} s with a valid key.`,
      undefined,
      { 'Retry-After': String(retryAfterSeconds) },
    ),
};

/**
 * The catalogue's answer for an error of the domain or the store (`during`: whether the request only read),
 * or undefined for an error nobody expected (a 500, logged).
 */
export function toApiError(err: unknown, during: 'read' | 'write'): ApiError | undefined {
  if (err instanceof ApiError) return err;
  if (err instanceof InvalidCursor) return errors.invalidCursor(err.param);
  if (err instanceof UnknownParameter) return errors.unknownParam(err.parameter);
  if (err instanceof InvalidInput) {
    switch (err.source) {
      case 'cursor':
        return errors.invalidCursor(err.param);
      case 'body':
        return errors.invalidBody(err.message, err.param);
      case 'event':
        return errors.invalidEvent(err.message, err.param);
      default:
        return err.param === undefined
          ? errors.invalidBody(err.message)
          : errors.invalidParam(err.param, err.message);
    }
  }
  if (err instanceof NotFound) return errors.notFound(err.what);
  if (err instanceof Conflict) return errors.conflict(err.message, err.param);
  if (err instanceof Forbidden) {
    return err.reason === 'feature'
      ? errors.featureDisabled(err.message)
      : errors.forbidden(err.message, err.param);
  }
  if (err instanceof IntegrityBroken) return errors.integrityBroken(err.message);
  if (err instanceof StorageFull) return errors.storageFull(during);
  if (err instanceof StoreUnavailable) return errors.storageUnavailable(during);
  return undefined;
}
