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

export const api = {
  /** One page of entries: `{ data, nextCursor? }`. */
  async list(params, opts) {
    return (await request('/audit-logs', params, opts)).json();
  },
  async histogram(params, opts) {
    return (await request('/audit-logs/histogram', params, opts)).json();
  },
  async facets(params, opts) {
    return (await request('/audit-logs/facets', params, opts)).json();
  },
  /** One entry by id, as the API returns it. */
  async entry(id, opts) {
    return (await request(`/audit-logs/${encodeURIComponent(id)}`, {}, opts)).json();
  },
  async proof(id, opts) {
    return (await request(`/audit-logs/${encodeURIComponent(id)}/proof`, {}, opts)).json();
  },
  async publicKey(opts) {
    return (await request('/audit-logs/integrity/public-key', {}, opts)).json();
  },
  /** The org's push streams: `{ data: [stream…] }`. */
  async streams() {
    return (await request('/audit-logs/streams')).json();
  },
  async streamCreate(body) {
    return (await request('/audit-logs/streams', {}, { method: 'POST', body })).json();
  },
  async streamUpdate(id, body) {
    return (
      await request(`/audit-logs/streams/${encodeURIComponent(id)}`, {}, { method: 'PATCH', body })
    ).json();
  },
  /** Sends one test event now: `{ ok, status, reply, error }`. */
  async streamTest(id) {
    return (
      await request(`/audit-logs/streams/${encodeURIComponent(id)}/test`, {}, { method: 'POST' })
    ).json();
  },
  async streamPause(id) {
    return (
      await request(`/audit-logs/streams/${encodeURIComponent(id)}/pause`, {}, { method: 'POST' })
    ).json();
  },
  async streamResume(id) {
    return (
      await request(`/audit-logs/streams/${encodeURIComponent(id)}/resume`, {}, { method: 'POST' })
    ).json();
  },
  /** The export as a Blob (the server streams it; the browser collects it for the download). */
  async export(params) {
    const res = await request('/audit-logs/export', params);
    return res.blob();
  },
};
