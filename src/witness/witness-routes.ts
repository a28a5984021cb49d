/**
 * The witness's HTTP interface (c2sp.org/tlog-witness): `POST /add-checkpoint` and the monitoring
 * `GET /<origin hash>/checkpoint`. Bodies are small text; a larger one is refused before it is read whole.
 */
import express, { Router } from 'express';
import type { Witness } from './witness.ts';

const MAX_BODY = '64kb';

export function witnessRouter(witness: Witness): Router {
  const router = Router();
  router.post('/add-checkpoint', express.text({ type: () => true, limit: MAX_BODY }), (req, res) => {
    const body = typeof req.body === 'string' ? req.body : '';
    const answer = witness.addCheckpoint(body);
    res.status(answer.status).type(answer.contentType).send(answer.body);
  });
  router.get('/:hash/checkpoint', (req, res) => {
    const note = witness.checkpointOf(String(req.params.hash));
    if (note === undefined)
      res.status(404).type('text/plain').send('no checkpoint of that log was cosigned\n');
    else res.type('text/plain; charset=utf-8').send(note);
  });
  return router;
}
