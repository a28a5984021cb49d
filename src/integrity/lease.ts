/**
 * A leader lease in OpenSearch: one document (`lease:<name>` in INTERNAL.service) that names its holder and
 * an expiry. It is taken and renewed only with optimistic concurrency (`if_seq_no`/`if_primary_term`, or
 * `create` when absent), so of two instances racing for it exactly one write succeeds. The lease keeps
 * instances from doing the same work twice; correctness never depends on it (a seal is `create`d under its
 * seq, so a stale leader's write fails instead of forking the chain). Expiry uses wall clocks: instances
 * whose clocks differ by more than the TTL may both believe they lead, which costs work, not safety.
 */
import { statusOf, type Store } from '../store/client.ts';
import { INTERNAL } from '../store/names.ts';

interface LeaseDoc {
  kind: 'lease';
  holder: string;
  expiresAt: string;
}

export class Lease {
  private readonly id: string;

  constructor(
    private readonly store: Store,
    name: string,
    readonly holder: string,
    private readonly ttlMs: number,
  ) {
    this.id = `lease:${name}`;
  }

  /** Takes or renews the lease; true when this holder has it until now + ttl. */
  async acquire(now = Date.now()): Promise<boolean> {
    const body: LeaseDoc = {
      kind: 'lease',
      holder: this.holder,
      expiresAt: new Date(now + this.ttlMs).toISOString(),
    };
    const current = await this.read();
    try {
      if (!current) {
        await this.store.create({ index: INTERNAL.service, id: this.id, body });
        return true;
      }
      const { doc, seqNo, primaryTerm } = current;
      if (doc.holder !== this.holder && Date.parse(doc.expiresAt) > now) return false;
      await this.store.index({
        index: INTERNAL.service,
        id: this.id,
        body,
        if_seq_no: seqNo,
        if_primary_term: primaryTerm,
      });
      return true;
    } catch (err) {
      if (statusOf(err) === 409) return false; // another instance wrote first
      throw err;
    }
  }

  /** Gives the lease up (on an orderly shutdown) so another instance need not wait for it to expire. */
  async release(): Promise<void> {
    const current = await this.read();
    if (!current || current.doc.holder !== this.holder) return;
    try {
      await this.store.delete({
        index: INTERNAL.service,
        id: this.id,
        if_seq_no: current.seqNo,
        if_primary_term: current.primaryTerm,
      });
    } catch (err) {
      if (statusOf(err) !== 409 && statusOf(err) !== 404) throw err;
    }
  }

  private async read(): Promise<{ doc: LeaseDoc; seqNo: number; primaryTerm: number } | undefined> {
    try {
      const res = await this.store.get({ index: INTERNAL.service, id: this.id });
      const b = res.body as { _source: LeaseDoc; _seq_no: number; _primary_term: number };
      return { doc: b._source, seqNo: b._seq_no, primaryTerm: b._primary_term };
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  }
}
