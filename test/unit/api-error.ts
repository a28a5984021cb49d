import { ApiError, toApiError } from '../../src/http/api-errors.ts';

/**
 * The API's answer to what `fn` throws: an ApiError, or a domain error as the HTTP layer maps it (any other
 * error propagates; no error at all fails the test).
 */
export function errorOf(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    const apiError = toApiError(err, 'read');
    if (apiError) return apiError;
    throw err;
  }
  throw new Error('expected an ApiError');
}
