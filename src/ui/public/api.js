// The page talks to the public API only, with the admin's key from sessionStorage (this tab only: closing the
// tab forgets it, and no other tab or later visit can read it).

const KEY_STORAGE = 'audit-logs.apiKey';

export const session = {
  get key() {
    return sessionStorage.getItem(KEY_STORAGE);
  },
  set key(value) {
    if (value) sessionStorage.setItem(KEY_STORAGE, value);
    else sessionStorage.removeItem(KEY_STORAGE);
  },
};

/** An API answer other than 2xx, carrying the API's own `{ error, code, param }`. */
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error ?? `The service answered ${status}.`);
    this.status = status;
    this.code = body?.code;
    this.param = body?.param;
  }
  get isAuth() {
    return this.status === 401 || this.status === 403;
  }
}

/** `params` → query string, skipping empty values. */
export function queryString(params) {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0)) continue;
    qs.set(k, Array.isArray(v) ? v.join(',') : String(v));
  }
  const s = qs.toString();
  return s ? `?${s}` : '';
}

async function request(path, params = {}, { signal, method = 'GET', body } = {}) {
  let res;
  try {
    res = await fetch(`/api/v1${path}${queryString(params)}`, {
      method,
      headers: {
        Authorization: `Bearer ${session.key}`,
        Accept: 'application/json',
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal,
    });
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError(0, { error: 'The service cannot be reached. Check your connection and try again.' });
  }
  if (!res.ok) {
    let body;
    try {
      body = await res.json();
    } catch {
      body = undefined;
    }
    throw new ApiError(res.status, body);
  }
  return res;
}

/** `request`'s answer as JSON. */
const json = async (path, params, opts) => (await request(path, params, opts)).json();
/** The path of one stream, or of an action on it (`/test`, `/pause`, `/resume`). */
const streamPath = (id, action = '') => `/audit-logs/streams/${encodeURIComponent(id)}${action}`;

export const api = {
  /** One page of entries: `{ data, nextCursor? }`. */
  list: (params, opts) => json('/audit-logs', params, opts),
  histogram: (params, opts) => json('/audit-logs/histogram', params, opts),
  facets: (params, opts) => json('/audit-logs/facets', params, opts),
  /** One entry by id, as the API returns it. */
  entry: (id, opts) => json(`/audit-logs/${encodeURIComponent(id)}`, {}, opts),
  proof: (id, opts) => json(`/audit-logs/${encodeURIComponent(id)}/proof`, {}, opts),
  publicKey: (opts) => json('/audit-logs/integrity/public-key', {}, opts),
  /** The org's push streams: `{ data: [stream…] }`. */
  streams: () => json('/audit-logs/streams'),
  streamCreate: (body) => json('/audit-logs/streams', {}, { method: 'POST', body }),
  streamUpdate: (id, body) => json(streamPath(id), {}, { method: 'PATCH', body }),
  /** Sends one test event now: `{ ok, status, reply, error }`. */
  streamTest: (id) => json(streamPath(id, '/test'), {}, { method: 'POST' }),
  streamPause: (id) => json(streamPath(id, '/pause'), {}, { method: 'POST' }),
  streamResume: (id) => json(streamPath(id, '/resume'), {}, { method: 'POST' }),
  /** The export as a Blob (the server streams it; the browser collects it for the download). */
  export: async (params) => (await request('/audit-logs/export', params)).blob(),
};
