/**
 * `POST /api/v1/audit-logs` with an ingest key. Bodies: one event object, `{ "events": [...] }`, or NDJSON
 * (one event per line). 201 when every event was created, 207 otherwise (results in input order); the
 * single-object form answers a rejected event with a 400 naming the field. Only POST lives here: GET on the
 * same path belongs to the read router.
 */
import express, { Router } from 'express';
import type { AppContext } from '../app.ts';
import { authenticator, principalOf } from '../http/auth.ts';
import { errors } from '../http/errors.ts';
import { ingestWithDetail } from './ingest.ts';

export const MAX_BODY = '5mb';
export const MAX_EVENTS = 1000;

/** What the body holds: the events, and whether it was the single-object form. */
export interface ParsedBody {
  events: unknown[];
  single: boolean;
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
  if (!Object.hasOwn(body, 'events')) return { events: [body], single: true };
  const extra = Object.keys(body).find((k) => k !== 'events');
  if (extra) throw errors.invalidBody(`A batch body holds only "events"; remove "${extra}".`, extra);
  const events = (body as { events: unknown }).events;
  if (!Array.isArray(events) || events.length === 0) {
    throw errors.invalidBody('events must be a non-empty array of event objects.', 'events');
  }
  if (events.length > MAX_EVENTS) throw errors.tooManyEvents(events.length, MAX_EVENTS);
  return { events, single: false };
}

/** One event per non-blank line; a line that is not JSON fails the whole request before anything is written. */
export function parseNdjsonBody(text: string): ParsedBody {
  const lines = text.split('\n');
  const events: unknown[] = [];
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
  });
  if (events.length === 0) throw errors.invalidBody('The NDJSON body holds no events.', 'events');
  return { events, single: false };
}

export function ingestRouter(ctx: AppContext): Router {
  const router = Router();
  const auth = authenticator(ctx);
  router.post(
    '/',
    auth('api-key'),
    (req, res, next) => {
      if (principalOf(res).kind !== 'ingest') return next(errors.ingestKeyRequired());
      if (!req.is(['application/json', 'application/x-ndjson'])) {
        return next(errors.unsupportedMediaType(req.headers['content-type'] ?? '(none)'));
      }
      next();
    },
    express.raw({ type: () => true, limit: MAX_BODY }),
    async (req, res) => {
      const principal = principalOf(res);
      const text = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
      const { events, single } = req.is('application/x-ndjson') ? parseNdjsonBody(text) : parseJsonBody(text);
      const boundOrgId = principal.kind === 'ingest' ? principal.orgId : undefined;
      const outcomes = await ingestWithDetail(ctx, { boundOrgId }, events);
      for (const o of outcomes) ctx.metrics?.ingestEvents.inc({ outcome: o.status });
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
