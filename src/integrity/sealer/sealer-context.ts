/** The sealer's options and results, and what its parts (the files beside this one) share. */
import { DEFAULT_LOG_ORIGIN } from '../../config.ts';
import type { AppContext } from '../../context.ts';
import { SEAL_SAFETY_MARGIN_MS } from '../ledger.ts';
import type { KeySource } from '../keyring.ts';
import type { SealLeaves } from '../../store/seal-store.ts';

export interface SealerOptions {
  /** Most events in one seal (a seal document holds three lists of this length). */
  batchCap: number;
  /**
   * Most entries one unsorted fetch of a walk window may return (at most OpenSearch's index.max_result_window);
   * a window with more is walked with sorted searches instead.
   */
  walkFetch: number;
  /** Entries younger than this are left for the next round (see SEAL_SAFETY_MARGIN_MS). */
  safetyMarginMs: number;
  /** How often a round runs. */
  periodMs: number;
  /** A ledger entry whose event is still missing after this long is reported. */
  missingEventGraceMs: number;
  /** An unsealed entry accepted this long before the newest seal was made is reported, not sealed. */
  lateGraceMs: number;
  leaseTtlMs: number;
  /** Org logs are named `<logOrigin>/<orgId>` (AUDIT_LOG_ORIGIN). */
  logOrigin: string;
}

/** Defaults derived from AUDIT_SEAL_INTERVAL_SECONDS: an event waits about one interval (at least the margin). */
export function sealerOptions(sealIntervalMs: number, overrides: Partial<SealerOptions> = {}): SealerOptions {
  const safetyMarginMs = SEAL_SAFETY_MARGIN_MS;
  return {
    batchCap: 10_000,
    walkFetch: 10_000,
    safetyMarginMs,
    periodMs: Math.max(250, sealIntervalMs - safetyMarginMs),
    missingEventGraceMs: 5 * 60_000,
    lateGraceMs: 10 * 60_000,
    leaseTtlMs: Math.max(3 * sealIntervalMs, 5000),
    logOrigin: DEFAULT_LOG_ORIGIN,
    ...overrides,
  };
}

export interface Held {
  orgId: string;
  eventId: string;
  reason: 'event-missing' | 'accepted-before-newest-seal';
  detail: string;
}

export interface RoundResult {
  leader: boolean;
  sealed: { orgId: string; seq: number; count: number }[];
  held: Held[];
}

export interface OrgResult extends Omit<RoundResult, 'leader'> {
  /** Entries before the cutoff were left for a later round (their events were still being written). */
  leftBehind: boolean;
  /** Ledger entries the walk read back from OpenSearch (those this process wrote itself are not read). */
  walked: number;
  /** The org's tree has more seals to append at once (a long history is taken a part per round). */
  treeCatchingUp?: boolean;
}

export type Ctx = Pick<AppContext, 'store' | 'written'>;

/** What the parts of one sealer share: its store and memory, key and options, and how it reports held entries. */
export interface Sealing {
  readonly ctx: Ctx;
  /** The ring of the moment: its newest valid key signs each seal. */
  readonly keys: KeySource;
  readonly opts: SealerOptions;
  /** Adds a held entry to `out`, and logs it once per process. */
  report(h: Held, out: Omit<RoundResult, 'leader'>): void;
  /** Seals this sealer made and the org's tree has not taken yet, by org and seq: the tree appends them unread. */
  readonly made: Map<string, Map<number, SealLeaves>>;
}

/** Seals kept in `made` per org: what one round appends to a tree at most (more are read back next round). */
export const TREE_SEALS_PER_ROUND = 20;
