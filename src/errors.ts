/**
 * The errors the domain and the storage layer raise. They say what went wrong in the domain's words; only
 * src/http/api-errors.ts decides which API code and status each becomes (`toApiError`). This module imports
 * nothing, so every layer may use it.
 */

/** Input a caller sent that cannot be used; `param` names the field (a query parameter, a body path). */
export class InvalidInput extends Error {
  constructor(
    message: string,
    readonly param?: string,
    /** Where the input came from: a query parameter, a request body, one posted event, a page cursor. */
    readonly source: 'parameter' | 'body' | 'event' | 'cursor' = 'parameter',
  ) {
    super(message);
  }
}

/** A query parameter the endpoint does not take (400 unknown_parameter). */
export class UnknownParameter extends InvalidInput {
  constructor(readonly parameter: string) {
    super(`Unknown parameter "${parameter}".`, parameter);
  }
}

/** A cursor or token this server did not issue for this query. */
export class InvalidCursor extends InvalidInput {
  constructor(param = 'cursor') {
    super('invalid cursor', param, 'cursor');
  }
}

/** Something the caller named does not exist (`what` is a phrase: `API key "k1"`). */
export class NotFound extends Error {
  constructor(readonly what: string) {
    super(`${what} was not found.`);
  }
}

/** The change lost a race with another change of the same thing; sending it again is safe. */
export class Conflict extends Error {
  constructor(
    message: string,
    readonly param?: string,
  ) {
    super(message);
  }
}

/** The caller may not do this: `feature` when the org has audit logs switched off. */
export class Forbidden extends Error {
  constructor(
    message: string,
    readonly param?: string,
    readonly reason: 'access' | 'feature' = 'access',
  ) {
    super(message);
  }
}

/** OpenSearch cannot take or serve requests now; the request may be retried later. */
export class StoreUnavailable extends Error {
  constructor(
    readonly detail = 'the audit store is unavailable',
    options?: { cause?: unknown },
  ) {
    super(detail, options);
  }
}

/**
 * OpenSearch refuses writes for lack of disk (the flood-stage watermark made indices read-only, deletes
 * allowed): transient like any unavailability, but only an operator freeing disk space ends it.
 */
export class StorageFull extends StoreUnavailable {}

/** What is stored does not match its seals. */
export class IntegrityBroken extends Error {}

/**
 * Something the code relies on did not hold (a stored tile missing, a write the service owns refused, a
 * capacity it sized exceeded): a defect or a damaged store, never the caller's fault. Answered as a 500.
 */
export class InvariantViolation extends Error {}
