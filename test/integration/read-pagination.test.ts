/**
 * Property test of cursor paging: for random events (with a burst of 300 sharing one millisecond) ingested in
 * random order, random filters and random page sizes — changing from page to page — and newer events ingested
 * between page requests, the concatenated pages equal the expected sorted set exactly: nothing skipped,
 * nothing repeated, nothing out of order. The seed is printed so a failure can be replayed (READ_SEED=…).
 */
import { expect } from 'chai';
import crypto from 'node:crypto';
import {
  createOrg,
  byNewest,
  get,
  ingest,
  readAll,
  startReadService,
  type ReadService,
  type TestOrg,
} from '../fixtures/read.ts';

/** mulberry32: small, seedable, good enough to pick test cases. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface ModelEvent {
  id: string;
  action: string;
  resourceType: string;
  actorId?: string;
  workspaceId?: string;
  createdAt: string;
}

interface Filters {
  actions?: string[];
  workspaceId?: string;
  actorId?: string;
  includeDeparted?: boolean;
  startDate: string;
  endDate: string;
}

const ACTIONS = [
  'workflow.created',
  'workflow.deleted',
  'member.invited',
  'table.updated',
  'api_key.created',
];
const DAY0 = Date.UTC(1995, 5, 1); // 1995-06-01, the first of five days
const DAY = 86_400_000;
const BURST_MS = DAY0 + 2 * DAY + 12 * 3_600_000 + 345; // 1995-06-03T12:00:00.345Z

describe('read path: cursor paging property', function () {
  this.timeout(600_000);
  const seed = Number(process.env.READ_SEED ?? crypto.randomInt(2 ** 31));
  const rand = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  let svc: ReadService;
  let org: TestOrg;
  const model: ModelEvent[] = [];
  let newest = DAY0 + 4 * DAY + 20 * 3_600_000; // newer events are written after this instant

  const randomId = () => `e${crypto.randomBytes(int(3, 9)).toString('hex')}`;

  function randomEvent(createdAt: number): ModelEvent {
    const action = pick(ACTIONS);
    const actorId = pick([org.users.owner, org.users.admin, org.users.member, org.users.departed, undefined]);
    const workspaceId = pick([org.ws[0], org.ws[1], undefined]);
    return {
      id: randomId(),
      action,
      resourceType: action.split('.')[0]!,
      ...(actorId ? { actorId } : {}),
      ...(workspaceId ? { workspaceId } : {}),
      createdAt: new Date(createdAt).toISOString(),
    };
  }

  async function write(events: ModelEvent[]) {
    await ingest(svc.ctx, org.orgId, events as unknown as Record<string, unknown>[]);
    model.push(...events);
  }

  function expected(f: Filters, scopeWs?: string): string[] {
    const start = Date.parse(f.startDate);
    const end = /^\d{4}-\d{2}-\d{2}$/.test(f.endDate)
      ? Date.parse(f.endDate) + DAY - 1
      : Date.parse(f.endDate);
    const showDeparted = f.includeDeparted === true || f.actorId !== undefined;
    return model
      .filter((e) => {
        const t = Date.parse(e.createdAt);
        return (
          t >= start &&
          t <= end &&
          (scopeWs === undefined || e.workspaceId === scopeWs) &&
          (f.workspaceId === undefined || e.workspaceId === f.workspaceId) &&
          (f.actions === undefined || f.actions.includes(e.action)) &&
          (f.actorId === undefined || e.actorId === f.actorId) &&
          (showDeparted || e.actorId !== org.users.departed)
        );
      })
      .sort(byNewest)
      .map((e) => e.id);
  }

  function randomFilters(workspaceKey: boolean): Filters {
    const d1 = int(0, 4);
    const d2 = int(d1, 4);
    const day = (n: number) => new Date(DAY0 + n * DAY).toISOString().slice(0, 10);
    const f: Filters = { startDate: day(d1), endDate: day(d2) };
    if (rand() < 0.3) f.startDate = new Date(DAY0 + d1 * DAY + int(0, DAY - 1)).toISOString();
    if (rand() < 0.2) f.endDate = new Date(BURST_MS + int(-1, 1)).toISOString(); // an end inside the burst
    if (Date.parse(f.startDate) > Date.parse(f.endDate)) f.startDate = day(0);
    if (rand() < 0.4) f.actions = ACTIONS.filter(() => rand() < 0.5).slice(0, 3);
    if (f.actions?.length === 0) delete f.actions;
    if (rand() < 0.3) f.workspaceId = workspaceKey ? org.ws[0] : pick(org.ws);
    if (rand() < 0.3) f.actorId = pick([org.users.owner, org.users.member, org.users.departed]);
    const inc = pick([true, false, undefined]);
    if (inc !== undefined && !(inc === false && f.actorId === org.users.departed)) f.includeDeparted = inc;
    return f;
  }

  function queryOf(f: Filters): string {
    const q = new URLSearchParams({ startDate: f.startDate, endDate: f.endDate });
    if (f.actions) q.set('action', f.actions.join(','));
    if (f.workspaceId) q.set('workspaceId', f.workspaceId);
    if (f.actorId) q.set('actorId', f.actorId);
    if (f.includeDeparted !== undefined) q.set('includeDeparted', String(f.includeDeparted));
    return q.toString();
  }

  before(async () => {
    svc = await startReadService({ AUDIT_RATE_LIMIT_PER_MINUTE: '1000000' });
    org = await createOrg(svc.ctx);
    const events: ModelEvent[] = [];
    for (let i = 0; i < 700; i++) events.push(randomEvent(DAY0 + int(0, 5 * DAY - 4 * 3_600_000)));
    for (let i = 0; i < 300; i++) events.push(randomEvent(BURST_MS));
    // Random order, random batch sizes: the order of ingestion must not matter.
    for (let i = events.length - 1; i > 0; i--) {
      const j = int(0, i);
      [events[i], events[j]] = [events[j]!, events[i]!];
    }
    for (let i = 0; i < events.length;) {
      const n = int(1, 250);
      await write(events.slice(i, i + n));
      i += n;
    }
  });
  after(() => svc?.close());

  it(`pages of random sizes under random filters concatenate to exactly the expected order (seed ${seed})`, async () => {
    let pagesSeen = 0;
    let burstBoundaries = 0;
    for (let run = 0; run < 30; run++) {
      // Run 0 walks everything in small pages, so page boundaries surely fall inside the burst.
      const workspaceKey = run > 0 && rand() < 0.3;
      const key = workspaceKey ? org.keys.workspace : org.keys.owner;
      const f =
        run === 0
          ? { startDate: '1995-06-01', endDate: '1995-06-05', includeDeparted: true }
          : randomFilters(workspaceKey);
      const want = expected(f, workspaceKey ? org.ws[0] : undefined);
      const base = Math.max(run === 0 ? 7 : int(1, 100), Math.ceil(want.length / 120));
      const got: string[] = [];
      let cursor: string | undefined;
      for (;;) {
        const limit = Math.min(100, Math.max(1, int(Math.ceil(base / 2), base * 2)));
        const c = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
        const res = await get(svc.url, `/api/v1/audit-logs?${queryOf(f)}&limit=${limit}${c}`, key);
        expect(res.status, res.text).to.equal(200);
        got.push(...res.body.data.map((e: { id: string }) => e.id));
        pagesSeen++;
        if (res.body.nextCursor === undefined) break;
        expect(res.body.data.length, 'only the last page may be short').to.equal(limit);
        const last = res.body.data[limit - 1];
        if (Date.parse(last.createdAt) === BURST_MS) burstBoundaries++;
        cursor = res.body.nextCursor;
        // Meanwhile, producers keep writing newer events; they sort before the cursor and never enter this walk.
        if (rand() < 0.3) {
          const fresh = Array.from({ length: int(1, 5) }, () => randomEvent((newest += int(0, 2))));
          await write(fresh);
        }
      }
      expect(got, `run ${run}: ${queryOf(f)} (${workspaceKey ? 'workspace' : 'owner'} key)`).to.deep.equal(
        want,
      );
    }
    // The property was exercised where it is hard: page boundaries inside the 300-event millisecond.
    expect(burstBoundaries).to.be.greaterThan(0);
    expect(pagesSeen).to.be.greaterThan(60);
  });

  it('pages across a year of day indices concatenate exactly, whichever day windows a page spans', async () => {
    // Days back from 1995-12-31 that land in each day window of the read path (the newest day, the rest) and on
    // their edges, and in every month.
    const back = [0, 0, 1, 3, 7, 8, 12, 30, 37, 38, 90, 120, 128, 129, 200, 300, 364];
    const other = await createOrg(svc.ctx);
    const end = Date.UTC(1995, 11, 31, 18);
    const events = back.flatMap((d, i) =>
      Array.from({ length: 3 }, (_, k) => ({
        id: `win${i}_${k}`,
        action: 'workflow.deployed',
        resourceType: 'workflow',
        // Two of every three share a millisecond: ties broken by id across page boundaries.
        createdAt: new Date(end - d * DAY - (k === 2 ? 1 : 0)).toISOString(),
      })),
    );
    await ingest(svc.ctx, other.orgId, events);
    const want = [...events].sort(byNewest).map((e) => e.id);
    for (const query of ['endDate=1995-12-31', 'startDate=1995-01-01&endDate=1995-12-31']) {
      for (const limit of [2, 5, 100]) {
        const got = await readAll(svc.url, `${query}&includeDeparted=true`, other.keys.owner, limit);
        expect(
          got.map((e) => e.id),
          `${query}, limit ${limit}`,
        ).to.deep.equal(want);
      }
    }
  });
});
