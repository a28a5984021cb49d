/**
 * `POST /api/v1/audit-logs` with an ingest key. Bodies: one event object, `{ "events": [...] }`, or NDJSON
 * (one event per line). 201 when every event was created, 207 otherwise (results in input order); the
 * single-object form answers a rejected event with a 400 naming the field. Only POST lives here: GET on the
 * same path belongs to the read router.
 */
import { Router } from 'express';
import { MIMEType } from 'node:util';
import type { HttpContext } from '../http/http-context.ts';
import { authenticator, principalOf } from '../http/auth.ts';
import { readBody } from '../http/body-reading.ts';
import { admit, Capacity } from '../http/concurrency.ts';
import { errors } from '../http/api-errors.ts';
import { scanJson, type JsonProblem } from '../json-scan.ts';
import { requireUtf8Charset, utf8Text } from '../http/strict-json.ts';
import { ingestWithDetail } from './ingest.ts';
import { usableId, type Rejection } from './validate.ts';

export const MAX_BODY_BYTES = 5 * 1024 * 1024;
export const MAX_EVENTS = 1000;

/**
 * What the body holds: the events, whether it was the single-object form, and the events the strict scan
 * (strict-json.ts) refused by their position: JSON.parse would have changed them (a duplicate key, a number
 * it cannot keep) or readers could not parse them back (prototype keys, nesting). In a batch they are
 * rejected one by one like any invalid event (207); the single-object form answers 400 naming the path.
 */
export interface ParsedBody {
  events: unknown[];
  single: boolean;
  refused: Map<number, Rejection>;
}

export function parseJsonBody(text: string): ParsedBody {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw errors.invalidBody(`The body is not valid JSON: ${(err as Error).message}`);
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw errors.invalidBody('The body must be one event object or { "events": [ ... ] }.');
  }
  const problems = scanJson(text, { batchKey: 'events' });
  if (!Object.hasOwn(body, 'events')) {
    const problem = problems[0];
    if (problem) throw errors.invalidEvent(problem.message, problem.path);
    return { events: [body], single: true, refused: new Map() };
  }
  const extra = Object.keys(body).find((k) => k !== 'events');
  if (extra) throw errors.invalidBody(`A batch body holds only "events"; remove "${extra}".`, extra);
  // Outside the events (`events` twice, say), the body as a whole is at fault.
  const outside = problems.find((p) => p.record === -1);
  if (outside) throw errors.invalidBody(outside.message, outside.path);
  const events = (body as { events: unknown }).events;
  if (!Array.isArray(events) || events.length === 0) {
    throw errors.invalidBody('events must be a non-empty array of event objects.', 'events');
  }
  if (events.length > MAX_EVENTS) throw errors.tooManyEvents(events.length, MAX_EVENTS);
  const refused = new Map(problems.map((p) => [p.record, refusal(events[p.record], p)]));
  return { events, single: false, refused };
}

function refusal(event: unknown, { path, message }: JsonProblem): Rejection {
  // A repeated `id` key: which of its values is meant is the question, so no id is answered.
  const id = path === 'id' ? '' : usableId(event);
  return { ok: false, id, error: message, ...(path ? { param: path } : {}) };
}

/** One event per non-blank line; a line that is not JSON fails the whole request before anything is written. */
export function parseNdjsonBody(text: string): ParsedBody {
  const lines = text.split('\n');
  const events: unknown[] = [];
  const refused = new Map<number, Rejection>();
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    if (events.length === MAX_EVENTS)
      throw errors.tooManyEvents(lines.filter((l) => l.trim()).length, MAX_EVENTS);
    try {
      events.push(JSON.parse(line));
    } catch (err) {
      throw errors.invalidNdjsonLine(i + 1, (err as Error).message);
    }
    const problem = scanJson(line)[0];
    if (problem) refused.set(events.length - 1, refusal(events[events.length - 1], problem));
  });
  if (events.length === 0) throw errors.invalidBody('The NDJSON body holds no events.', 'events');
  return { events, single: false, refused };
}

export function ingestRouter(ctx: HttpContext): Router {
  const router = Router();
  const auth = authenticator(ctx);
  const { ingestConcurrency, ingestMemoryMb, ingestBodyTimeoutMs, ingestReadBufferBytes } = ctx.cfg;
  const busy = () => errors.ingestBusy(ingestConcurrency);
  router.post(
    '/',
    auth('api-key'),
    (req, res, next) => {
      if (principalOf(res).kind !== 'ingest') return next(errors.ingestKeyRequired());
      if (!req.is(['application/json', 'application/x-ndjson'])) {
        return next(errors.unsupportedMediaType(req.headers['content-type'] ?? '(none)'));
      }
      requireUtf8Charset(new MIMEType(req.headers['content-type']!).params.get('charset') ?? undefined);
      next();
    },
    // The body is read before a place to write it is taken: a slow sender holds only its own bytes.
    readBody({
      maxBytes: MAX_BODY_BYTES,
      timeoutMs: ingestBodyTimeoutMs,
      buffer: new Capacity(ingestReadBufferBytes, MAX_BODY_BYTES),
      refuse: busy,
    }),
    admit(new Capacity(ingestConcurrency), busy, ingestMemoryMb * 1024 * 1024),
    async (req, res) => {
      // Finish before the request's deadline (requestDeadline answers then), with room to answer ourselves.
      const deadline = Date.now() + ctx.cfg.requestTimeoutMs - 500;
      const principal = principalOf(res);
      const text = Buffer.isBuffer(req.body) ? utf8Text(req.body) : '';
      const { events, single, refused } = req.is('application/x-ndjson')
        ? parseNdjsonBody(text)
        : parseJsonBody(text);
      const boundOrgId = principal.kind === 'ingest' ? principal.orgId : undefined;
      const outcomes = await ingestWithDetail(ctx, { boundOrgId, deadline }, events, refused);
      const first = outcomes[0]!;
      if (single && first.status === 'rejected') throw errors.invalidEvent(first.error!, first.param);
      const results = outcomes.map(({ id, status, error }) =>
        error === undefined ? { id, status } : { id, status, error },
      );
      res.status(outcomes.every((o) => o.status === 'created') ? 201 : 207).json({ results });
    },
  );
  return router;
}
