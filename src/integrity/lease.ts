/**
 * A leader lease in OpenSearch: one document (`lease:<name>` in INTERNAL.service) that names its holder and
 * an expiry. It is taken and renewed only with optimistic concurrency (`if_seq_no`/`if_primary_term`, or
 * `create` when absent), so of two instances racing for it exactly one write succeeds. The lease keeps
 * instances from doing the same work twice; correctness never depends on it (a seal is `create`d under its
 * seq, so a stale leader's write fails instead of forking the chain). Expiry uses wall clocks: instances
 * whose clocks differ by more than the TTL may both believe they lead, which costs work, not safety.
 */
import type { Store } from '../store/client.ts';
import { deleteLease, readLease, writeLease, type LeaseDoc } from '../store/lease-store.ts';

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
    const current = await readLease(this.store, this.id);
    if (current && current.doc.holder !== this.holder && Date.parse(current.doc.expiresAt) > now)
      return false;
    return writeLease(this.store, this.id, body, current);
  }

  /** Gives the lease up (on an orderly shutdown) so another instance need not wait for it to expire. */
  async release(): Promise<void> {
    const current = await readLease(this.store, this.id);
    if (!current || current.doc.holder !== this.holder) return;
    await deleteLease(this.store, this.id, current);
  }
}
