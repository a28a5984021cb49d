import { expect } from 'chai';
import { errorOf } from './api-error.ts';
import { MAX_EVENTS, parseJsonBody, parseNdjsonBody } from '../../src/ingest/ingest-routes.ts';

const ev = { action: 'file.uploaded', resourceType: 'file' };

describe('ingest body parsers', () => {
  describe('parseJsonBody', () => {
    it('reads one event object as the single form', () => {
      expect(parseJsonBody(JSON.stringify(ev))).to.deep.equal({
        events: [ev],
        single: true,
        refused: new Map(),
      });
    });

    it('reads { "events": [...] } as a batch, in order', () => {
      const body = parseJsonBody(JSON.stringify({ events: [ev, { ...ev, id: 'b' }] }));
      expect(body.single).to.equal(false);
      expect(body.events).to.deep.equal([ev, { ...ev, id: 'b' }]);
      expect(body.refused.size).to.equal(0);
    });

    it('answers 400 invalid_body for what is not an event object or a batch', () => {
      const cases: [string, string | undefined, RegExp][] = [
        ['{"action":', undefined, /not valid JSON/],
        ['[{"action":"a.b"}]', undefined, /one event object or \{ "events"/],
        ['null', undefined, /one event object/],
        ['{"events":[],"x":1}', 'x', /holds only "events"; remove "x"/],
        ['{"events":[]}', 'events', /non-empty array/],
        ['{"events":{}}', 'events', /non-empty array/],
        ['{"events":[{}],"events":[{}]}', 'events', /./],
      ];
      for (const [text, param, message] of cases) {
        const err = errorOf(() => parseJsonBody(text));
        expect(err.status, text).to.equal(400);
        expect(err.code, text).to.equal('invalid_body');
        expect(err.param, text).to.equal(param);
        expect(err.message, text).to.match(message);
      }
    });

    it(`refuses more than ${MAX_EVENTS} events with too_many_events`, () => {
      expect(parseJsonBody(JSON.stringify({ events: Array(MAX_EVENTS).fill(ev) })).events).to.have.length(
        MAX_EVENTS,
      );
      const err = errorOf(() => parseJsonBody(JSON.stringify({ events: Array(MAX_EVENTS + 1).fill(ev) })));
      expect(err).to.include({ status: 400, code: 'too_many_events', param: 'events' });
    });

    it('answers a single event JSON.parse would change with 400 invalid_event naming the path', () => {
      const err = errorOf(() =>
        parseJsonBody('{"action":"a.b","resourceType":"x","metadata":{"n":1,"n":2}}'),
      );
      expect(err).to.include({ status: 400, code: 'invalid_event', param: 'metadata.n' });
    });

    it('refuses such events of a batch by position, with their id, and keeps the others', () => {
      const text =
        '{"events":[{"action":"a.b","resourceType":"x"},' +
        '{"id":"e2","action":"a.b","resourceType":"x","metadata":{"big":1e400}},' +
        '{"id":"e3","id":"e4","action":"a.b","resourceType":"x"}]}';
      const body = parseJsonBody(text);
      expect(body.events).to.have.length(3);
      expect([...body.refused.keys()]).to.deep.equal([1, 2]);
      expect(body.refused.get(1)).to.include({ ok: false, id: 'e2', param: 'metadata.big' });
      // Which of a repeated id is meant is the question, so none is answered.
      expect(body.refused.get(2)).to.include({ ok: false, id: '', param: 'id' });
    });
  });

  describe('parseNdjsonBody', () => {
    it('reads one event per non-blank line, whatever the line endings', () => {
      const text = `${JSON.stringify(ev)}\r\n\n  \n${JSON.stringify({ ...ev, id: 'b' })}\n`;
      const body = parseNdjsonBody(text);
      expect(body.single).to.equal(false);
      expect(body.events).to.deep.equal([ev, { ...ev, id: 'b' }]);
    });

    it('fails the whole body on a line that is not JSON, naming its line number', () => {
      const err = errorOf(() => parseNdjsonBody(`${JSON.stringify(ev)}\n\n{"action": oops}\n`));
      expect(err).to.include({ status: 400, code: 'invalid_ndjson', param: 'line 3' });
      expect(err.message).to.match(
        /^Line 3 of the NDJSON body is not valid JSON .*nothing from this request/,
      );
    });

    it('refuses an empty body and more than the maximum of events', () => {
      expect(errorOf(() => parseNdjsonBody(' \n\n'))).to.include({ code: 'invalid_body', param: 'events' });
      const lines = Array(MAX_EVENTS + 1)
        .fill(JSON.stringify(ev))
        .join('\n');
      const err = errorOf(() => parseNdjsonBody(lines));
      expect(err).to.include({ code: 'too_many_events', param: 'events' });
      expect(err.message).to.match(new RegExp(`holds ${MAX_EVENTS + 1} events`));
    });

    it('refuses a line JSON.parse would change by its position, keeping the others', () => {
      const body = parseNdjsonBody(
        `${JSON.stringify(ev)}\n{"id":"x","action":"a.b","resourceType":"x","__proto__":{}}`,
      );
      expect(body.events).to.have.length(2);
      expect([...body.refused.keys()]).to.deep.equal([1]);
      expect(body.refused.get(1)).to.include({ id: 'x', param: '__proto__' });
    });
  });
});
