/**
 * Producers for the streams benchmark that ingest over HTTP (POST /api/v1/audit-logs), as clients do: at full
 * rate (each producer sends its next batch when the last was acknowledged) or at a steady rate (a batch every
 * tick, whatever is still in flight). A batch answered 503/429 is sent again after its Retry-After (at most
 * 2 s), one without an answer at once; its events count from the answer that acknowledged them.
 */
import { benchEvent } from './backlog.ts';

/** POSTs the events until they are acknowledged; resolves with the time of that answer (Date.now()). */
export async function ingestBatch(url: string, key: string, events: object[]): Promise<number> {
  const body = JSON.stringify({ events });
  // Patient: under the memory gate (AUDIT_INGEST_MEMORY_MB) the service admits one request at a time.
  for (const giveUpAt = Date.now() + 300_000; Date.now() < giveUpAt;) {
    const res = await fetch(`${url}/api/v1/audit-logs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body,
    }).catch(() => undefined); // no answer (a connect timeout): sent again, as for a 503
    if (!res) continue;
    const at = Date.now();
    const text = await res.text();
    if (res.status === 201 || res.status === 207) {
      const { results } = JSON.parse(text) as { results: { status: string; id: string }[] };
      const bad = results.find((r) => r.status !== 'created' && r.status !== 'duplicate');
      if (bad) throw new Error(`ingest refused ${bad.id}: ${JSON.stringify(bad)}`);
      return at;
    }
    if (res.status !== 503 && res.status !== 429) throw new Error(`ingest answered ${res.status}: ${text}`);
    const wait = Math.min(Number(res.headers.get('retry-after') ?? 1), 2) * 1000;
    await new Promise((r) => setTimeout(r, wait));
  }
  throw new Error('ingest: a batch was refused for 300 s');
}

/** `producers` loops of `size`-event batches for `seconds`: how many events were acknowledged, and when. */
export async function ingestFullRate(opts: {
  url: string;
  key: string;
  prefix: string;
  producers: number;
  size: number;
  seconds: number;
}): Promise<{ events: number; seconds: number }> {
  let events = 0;
  const t0 = performance.now();
  const end = t0 + opts.seconds * 1000;
  const producer = async (p: number) => {
    for (let b = 0; performance.now() < end; b++) {
      const batch = Array.from({ length: opts.size }, (_, i) =>
        benchEvent(`${opts.prefix}_${p}_${b}_${i}`, b * opts.size + i),
      );
      await ingestBatch(opts.url, opts.key, batch);
      events += batch.length;
    }
  };
  await Promise.all(Array.from({ length: opts.producers }, (_, p) => producer(p)));
  return { events, seconds: (performance.now() - t0) / 1000 };
}

/**
 * `perSecond` events a second for `seconds`, as a batch of `perSecond / 10` every 100 ms (a batch is sent on
 * time even while earlier ones are in flight); `acked(ids, at)` is told each acknowledgement.
 */
export async function ingestSteady(opts: {
  url: string;
  key: string;
  prefix: string;
  perSecond: number;
  seconds: number;
  acked: (ids: string[], at: number) => void;
}): Promise<{ events: number; lateTicks: number }> {
  const size = Math.max(1, Math.round(opts.perSecond / 10));
  const ticks = opts.seconds * 10;
  const t0 = performance.now();
  const inFlight: Promise<void>[] = [];
  let lateTicks = 0;
  for (let t = 0; t < ticks; t++) {
    const due = t0 + t * 100;
    const now = performance.now();
    if (due > now) await new Promise((r) => setTimeout(r, due - now));
    else if (now - due > 100) lateTicks++;
    const batch = Array.from({ length: size }, (_, i) =>
      benchEvent(`${opts.prefix}_${t}_${i}`, t * size + i),
    );
    inFlight.push(
      ingestBatch(opts.url, opts.key, batch).then((at) =>
        opts.acked(
          batch.map((e) => (e as { id: string }).id),
          at,
        ),
      ),
    );
  }
  await Promise.all(inFlight);
  return { events: ticks * size, lateTicks };
}
