/**
 * Bearer authentication (passport-http-bearer). API keys resolve to a `Principal`; the operator token is a
 * separate strategy. Answers: no header → 401 with a `WWW-Authenticate: Bearer` challenge; a malformed header
 * → 400 `invalid_request`; an unknown or revoked key → 401; too many of those from one address → 429 (see
 * auth-guard.ts). Whether a principal may do a thing is decided by the routes (see `access.ts` of each
 * capability), not here.
 */
import type { RequestHandler, Response } from 'express';
import passport from 'passport';
import { Strategy as BearerStrategy } from 'passport-http-bearer';
import { findApiKey } from '../directory/api-keys.ts';
import { parseKey, secretMatches, tokensEqual } from '../directory/keys.ts';
import type { Principal } from '../directory/principal.ts';
import { errors } from './api-errors.ts';
import type { HttpContext } from './http-context.ts';
import { InvariantViolation } from '../errors.ts';

export type { Principal } from '../directory/principal.ts';

/** Looks an API key up; undefined when unknown, revoked or wrong. */
export async function resolveApiKey(ctx: HttpContext, token: string): Promise<Principal | undefined> {
  const parsed = parseKey(token);
  if (!parsed) return undefined;
  const guard = ctx.authGuard;
  if (guard?.unknownKeys.has(parsed.id)) return undefined;
  if (guard) guard.lookups++;
  const rec = await findApiKey(ctx, parsed.id);
  if (!rec) guard?.unknownKeys.add(parsed.id);
  if (!rec || rec.revokedAt || !secretMatches(parsed.secret, rec.hash)) return undefined;
  switch (rec.kind) {
    case 'personal':
      return {
        kind: 'personal',
        keyId: rec.id,
        orgId: rec.orgId!,
        userId: rec.userId!,
        keyCreatedAt: rec.createdAt,
      };
    case 'workspace':
      return {
        kind: 'workspace',
        keyId: rec.id,
        orgId: rec.orgId!,
        workspaceId: rec.workspaceId!,
        createdBy: rec.createdBy!,
        keyCreatedAt: rec.createdAt,
      };
    case 'ingest':
      return { kind: 'ingest', keyId: rec.id, ...(rec.orgId ? { orgId: rec.orgId } : {}) };
  }
}

type Strategy = 'api-key' | 'operator';

/** One passport instance per app, so tests can run several apps in one process. */
function makePassport(ctx: HttpContext): passport.PassportStatic {
  const p = new passport.Passport() as unknown as passport.PassportStatic;
  p.use(
    'api-key',
    new BearerStrategy((token, done) => {
      resolveApiKey(ctx, token).then(
        (principal) => done(null, principal ?? false),
        (err) => done(err),
      );
    }),
  );
  p.use(
    'operator',
    new BearerStrategy((token, done) => {
      const expected = ctx.cfg.adminToken;
      done(null, expected && tokensEqual(token, expected) ? ({ kind: 'operator' } as Principal) : false);
    }),
  );
  return p;
}

/** Middleware factory: `auth('api-key')` / `auth('operator')` put the principal in `res.locals.principal`. */
export function authenticator(ctx: HttpContext): (strategy: Strategy) => RequestHandler {
  const p = makePassport(ctx);
  const guard = ctx.authGuard;
  return (strategy) => async (req, res, next) => {
    const header = req.headers.authorization;
    if (!header) return next(errors.unauthenticated());
    if (!/^Bearer [^\s]+$/.test(header)) return next(errors.malformedAuthorization());
    const wait = await guard?.retryAfter(req, header);
    if (wait) return next(errors.tooManyFailedAuthentications(wait));
    p.authenticate(strategy, { session: false }, async (err: unknown, principal: Principal | false) => {
      if (err) return next(err);
      if (!principal) {
        await guard?.failed(req);
        return next(
          errors.unauthenticated(
            strategy === 'operator'
              ? 'The operator token is wrong. Send "Authorization: Bearer $AUDIT_ADMIN_TOKEN".'
              : 'The API key is unknown or has been revoked.',
          ),
        );
      }
      guard?.succeeded(header);
      res.locals.principal = principal;
      next();
    })(req, res, next);
  };
}

export function principalOf(res: Response): Principal {
  const p = res.locals.principal as Principal | undefined;
  if (!p) throw new InvariantViolation('principalOf called on a route without authentication');
  return p;
}
