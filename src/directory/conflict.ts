/** The answer to a directory change that lost a race with another change of the same document. */
import { Conflict } from '../errors.ts';

/** The 409 for a document someone else changed between our read and our write. */
export function concurrentChange(what: string): Conflict {
  return new Conflict(`${what} was changed by another request at the same time; send the request again.`);
}
