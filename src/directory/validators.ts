/** The directory's request validators, compiled once and shared by the operator API and `npm run admin`. */
import { validator } from '../validation.ts';
import * as S from './schemas.ts';

export const orgParams = validator(S.OrgParams, 'path');
export const workspaceParams = validator(S.WorkspaceParams, 'path');
export const memberParams = validator(S.MemberParams, 'path');
export const keyParams = validator(S.KeyParams, 'path');
export const orgBody = validator(S.OrgBody);
export const workspaceBody = validator(S.WorkspaceBody);
export const memberBody = validator(S.MemberBody);
export const memberListBody = validator(S.MemberListBody);
export const orgKeyKind = validator(S.OrgKeyKind);
export const personalKeyBody = validator(S.PersonalKeyBody);
export const workspaceKeyBody = validator(S.WorkspaceKeyBody);
export const ingestKeyBody = validator(S.IngestKeyBody);
