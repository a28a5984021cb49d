import { ApiError } from '../../src/http/errors.ts';

/** The ApiError that `fn` throws (any other error propagates; no error at all fails the test). */
export function errorOf(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('expected an ApiError');
}
