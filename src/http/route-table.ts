/**
 * The routes an Express app has registered, as written in the code: method and full path pattern (mount path
 * + route path). The metrics label requests with these patterns only, and a test holds the OpenAPI document
 * to exactly this list.
 */
import type express from 'express';

export interface RegisteredRoute {
  method: string;
  path: string;
}

/** The shape of router 2's `listRoutes()` (Express 5's router), which @types/express does not declare. */
interface ListedRoute {
  path: string | RegExp;
  methods?: string[];
  router?: Listable;
}
interface Listable {
  listRoutes(): ListedRoute[];
}

/** A RegExp route (the read router's event id) is one path parameter, `:id`. */
const patternOf = (p: string | RegExp): string => (typeof p === 'string' ? p : '/:id');

/** `/api/v1/audit-logs` + `/` is `/api/v1/audit-logs`; `/` + `/healthz` is `/healthz`. */
const join = (prefix: string, path: string): string =>
  `${prefix}/${path}`.replace(/\/+/g, '/').replace(/(.)\/$/, '$1');

/** Every route of the app; GET routes are not listed again for the HEAD that Express answers with them. */
export function registeredRoutes(app: express.Application): RegisteredRoute[] {
  return walk(app.router as unknown as Listable, '');
}

function walk(router: Listable, prefix: string): RegisteredRoute[] {
  const out: RegisteredRoute[] = [];
  for (const r of router.listRoutes()) {
    const path = join(prefix, patternOf(r.path));
    if (r.router) out.push(...walk(r.router, path));
    const methods = r.methods ?? [];
    for (const method of methods) {
      if (method === 'HEAD' && methods.includes('GET')) continue;
      out.push({ method, path });
    }
  }
  return out;
}

/**
 * The registered pattern a request's route resolves to. Express matches paths case-insensitively, so the
 * mount path in `req.baseUrl` keeps the caller's spelling; it is looked up among the registered patterns.
 */
export function canonicalRoute(app: express.Application, spelled: string): string | undefined {
  let known = canonical.get(app);
  if (!known) {
    known = new Map(registeredRoutes(app).map((r) => [r.path.toLowerCase(), r.path]));
    canonical.set(app, known);
  }
  return known.get(spelled.toLowerCase());
}
const canonical = new WeakMap<express.Application, Map<string, string>>();
