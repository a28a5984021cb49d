/** The streams' request validators, compiled once: a 400 names the field at fault (`settings.url`). */
import { validator } from '../validation.ts';
import type { StreamType } from './destination.ts';
import * as S from './stream-schemas.ts';

const kind = validator(S.StreamKind);
const byType = Object.fromEntries(S.STREAM_TYPES.map((t) => [t, validator(S.createBody(t))])) as Record<
  StreamType,
  (v: unknown) => unknown
>;

/** A create body (or a stored stream with a change applied), checked against its type's settings. */
export function validateStreamInput(body: unknown): S.StreamInput {
  const { type } = kind(body);
  return byType[type](body) as S.StreamInput;
}

export const patchBody = validator(S.PatchBody);
export const replayBody = validator(S.ReplayBody);
export const streamParams = validator(S.StreamParams, 'path');
