/**
 * The log's side of c2sp.org/tlog-witness: each org's newest checkpoint goes to every configured witness, at
 * most once per interval per org with new seals, with a consistency proof from the size that witness cosigned
 * last; the cosignature lines that come back are checked and kept on the head, so GET /integrity/checkpoint
 * serves them. A 409 gives the witness's size and is answered once with a proof from there; 403, 404 and 422
 * are logged and counted, and the same checkpoint is not sent to that witness again. Witnessing runs on its own
 * timer under its own lease: it never delays ingest or sealing.
 */
import crypto from 'node:crypto';
import os from 'node:os';
import type { Store } from '../store/client.ts';
import {
  newestTreeHead,
  recentTreeHeads,
  orgsWithHeadsSince,
  refreshTreeHeads,
  setCosignatures,
  type TreeHead,
} from '../store/tile-store.ts';
import { Lease } from './lease.ts';
import { addSignatureLines, parseVerifierKey, verifyNote, type NoteVerifier } from './note.ts';
import { proveConsistency } from './org-tree.ts';

export type WitnessConfig = { url: string; verifierKey: string };

/** Heads looked at, newest first, for one with the quorum (witnessing cosigns only an org's newest head). */
const QUORUM_LOOKBACK = 100;

/**
 * The org's head to serve as "the newest checkpoint": the newest one that carries cosignatures of at least
 * `quorum` of `witnesses` (verified again here), so a client that needs k of n finds
 * them; the newest head when the quorum is 0, or when none of the newest 100 has it yet.
 */
export async function witnessedHead(
  store: Store,
  orgId: string,
  witnesses: WitnessConfig[],
  quorum: number,
): Promise<TreeHead | undefined> {
  const newest = await newestTreeHead(store, orgId);
  const verifiers = witnesses.map((w) => parseVerifierKey(w.verifierKey));
  // Counted only when they verify under the configured witness keys: lines in the database prove nothing alone.
  const cosigners = (h: TreeHead) => {
    try {
      return verifyNote(addSignatureLines(h.note, h.cosignatures ?? []), verifiers).valid.size;
    } catch {
      return 0;
    }
  };
  if (!newest || quorum === 0 || cosigners(newest) >= quorum) return newest;
  const met = (await recentTreeHeads(store, orgId, QUORUM_LOOKBACK)).find((h) => cosigners(h) >= quorum);
  return met ?? newest;
}

export type WitnessOutcome = 'cosigned' | 'conflict' | 'refused' | 'unreachable';

const REQUEST_TIMEOUT_MS = 10_000;

export class Witnessing {
  private readonly witnesses: (WitnessConfig & { verifier: NoteVerifier })[];
  private readonly lease: Lease;
  /** Per witness and org: the size it cosigned last, or the size it refused (not sent again). */
  private readonly sent = new Map<string, number>();
  private since: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;

  constructor(
    private readonly store: Store,
    /** The head's checkpoint as served (org-tree.ts servedNote): signed by the keys valid now. */
    private readonly noteOf: (head: TreeHead) => string,
    witnesses: WitnessConfig[],
    private readonly intervalMs: number,
    private readonly log: (msg: string) => void,
    private readonly count: (witness: string, outcome: WitnessOutcome) => void = () => undefined,
  ) {
    this.witnesses = witnesses.map((w) => ({ ...w, verifier: parseVerifierKey(w.verifierKey) }));
    const holder = `${os.hostname()}:${process.pid}:${crypto.randomBytes(4).toString('hex')}`;
    this.lease = new Lease(store, 'witnessing', holder, Math.max(3 * intervalMs, 5000));
  }

  start(): void {
    const tick = () => {
      this.running = this.round()
        .catch((err: unknown) => this.log(`witnessing: round failed: ${String(err)}`))
        .finally(() => {
          this.running = undefined;
          if (!this.stopped) this.timer = setTimeout(tick, this.intervalMs).unref();
        });
    };
    this.timer = setTimeout(tick, 0).unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    await this.lease.release().catch(() => undefined);
  }

  /** One round: if this instance holds the lease, every org with a head since the last round is submitted. */
  async round(): Promise<void> {
    if (!(await this.lease.acquire())) {
      this.since = undefined;
      return;
    }
    const started = new Date().toISOString();
    await refreshTreeHeads(this.store);
    for (const orgId of await orgsWithHeadsSince(this.store, this.since)) {
      if (this.stopped) return;
      const head = await newestTreeHead(this.store, orgId);
      if (head) await this.submit(head);
    }
    this.since = started;
  }

  /** Sends `head` to each witness that has not seen it yet, and keeps what comes back. */
  async submit(head: TreeHead): Promise<void> {
    const lines: string[] = [];
    for (const w of this.witnesses) {
      const key = `${w.url}|${head.orgId}`;
      if (this.sent.get(key) === head.size) continue;
      const line = await this.ask(w, head, this.sent.get(key) ?? 0, true);
      if (line) lines.push(line);
    }
    if (lines.length === 0) return;
    const fresh = await newestTreeHead(this.store, head.orgId);
    const have = fresh?.seq === head.seq ? fresh.cosignatures : head.cosignatures;
    const merged = [...new Set([...(have ?? []), ...lines])];
    await setCosignatures(this.store, head.orgId, head.seq, merged);
  }

  private async ask(
    w: (typeof this.witnesses)[number],
    head: TreeHead,
    oldSize: number,
    mayRetry: boolean,
  ): Promise<string | undefined> {
    const key = `${w.url}|${head.orgId}`;
    const proof =
      oldSize > 0 && oldSize < head.size
        ? await proveConsistency(this.store, head.orgId, oldSize, head.size)
        : [];
    const body = `old ${oldSize}\n${proof.map((h) => `${h.toString('base64')}\n`).join('')}\n${this.noteOf(head)}`;
    let res: Response;
    try {
      res = await fetch(`${w.url.replace(/\/$/, '')}/add-checkpoint`, {
        method: 'POST',
        body,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (err) {
      this.count(w.url, 'unreachable');
      this.log(
        `witnessing: witness ${w.url} did not answer for ${head.orgId} at size ${head.size}: ${String(err)}`,
      );
      return undefined;
    }
    const text = await res.text();
    if (res.status === 409 && mayRetry) {
      const theirs = /^(0|[1-9][0-9]*)\n?$/.exec(text) ? Number(text) : NaN;
      if (Number.isSafeInteger(theirs) && theirs <= head.size) return this.ask(w, head, theirs, false);
      this.count(w.url, 'conflict');
      this.log(
        `witnessing: witness ${w.url} has cosigned size ${text.trim()} of ${head.orgId}, past the log's ${head.size}: a rollback?`,
      );
      this.sent.set(key, head.size);
      return undefined;
    }
    if (res.status !== 200) {
      // Never retried blindly: the next new checkpoint of the org is sent again.
      this.count(w.url, res.status === 409 ? 'conflict' : 'refused');
      this.log(
        `witnessing: witness ${w.url} refused ${head.orgId} at size ${head.size} (${res.status}): ${text.trim()}`,
      );
      this.sent.set(key, head.size);
      return undefined;
    }
    const line = text.split('\n').find((l) => {
      try {
        return verifyNote(addSignatureLines(head.note, [l]), [w.verifier]).valid.has(w.verifier.name);
      } catch {
        return false;
      }
    });
    if (!line) {
      this.count(w.url, 'refused');
      this.log(
        `witnessing: witness ${w.url} answered no valid cosignature for ${head.orgId} at size ${head.size}`,
      );
      this.sent.set(key, head.size);
      return undefined;
    }
    this.count(w.url, 'cosigned');
    this.sent.set(key, head.size);
    return line;
  }
}
