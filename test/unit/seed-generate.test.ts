import { expect } from 'chai';
import { EVENT_TYPES } from '../../src/events/catalogue.ts';
import { generateEvents, seedWindow } from '../../scripts/lib/seed/events.ts';
import { buildWorld } from '../../scripts/lib/seed/world.ts';

const NOW = new Date('2026-11-26T15:30:00Z');

function sample(seed: string, events: number, days: number) {
  const window = seedWindow(days, NOW);
  const world = buildWorld({ orgId: 'org_unit', seed, workspaces: 4, members: 30, ...window });
  return { world, window, events: [...generateEvents({ world, seed, events, ...window })] };
}

describe('seed data generator', () => {
  it('is reproducible with the same seed and different with another', () => {
    const a = sample('42', 500, 7);
    const b = sample('42', 500, 7);
    const c = sample('43', 500, 7);
    expect(a.events).to.deep.equal(b.events);
    expect(a.world).to.deep.equal(b.world);
    expect(c.events.map((e) => e.id)).to.not.deep.equal(a.events.map((e) => e.id));
  });

  it('makes exactly the asked number of catalogue events inside the window, in createdAt order', () => {
    const { events, window } = sample('1', 3000, 10);
    expect(events).to.have.length(3000);
    const times = events.map((e) => Date.parse(e.createdAt!));
    expect(times).to.deep.equal([...times].sort((x, y) => x - y));
    expect(Math.min(...times)).to.be.at.least(window.from);
    expect(Math.max(...times)).to.be.below(NOW.getTime());
    for (const e of events) expect(EVENT_TYPES).to.include(e.action);
    expect(new Set(events.map((e) => e.id)).size).to.equal(3000);
  });

  it('seeds the day before when the window ends at midnight (the first hour of a UTC day), not an empty today', () => {
    const midnight = new Date('2026-11-27T00:00:00Z');
    const window = seedWindow(1, midnight);
    expect(window).to.deep.equal({ from: Date.parse('2026-11-26T00:00:00Z'), to: midnight.getTime() });
    const world = buildWorld({ orgId: 'org_unit', seed: 's', workspaces: 2, members: 5, ...window });
    expect([...generateEvents({ world, seed: 's', events: 100, ...window })]).to.have.length(100);
    expect(seedWindow(2, new Date('2026-11-27T01:00:00Z')).from).to.equal(Date.parse('2026-11-26T00:00:00Z'));
  });

  it('follows a weekly and daily rhythm: weekdays and working hours (org time) are busier', () => {
    const { events, world } = sample('7', 20000, 28);
    const local = (e: { createdAt?: string }) =>
      new Date(Date.parse(e.createdAt!) + world.utcOffsetHours * 3_600_000);
    const weekend = events.filter((e) => [0, 6].includes(local(e).getUTCDay())).length / 8; // 8 weekend days
    const weekday = events.filter((e) => ![0, 6].includes(local(e).getUTCDay())).length / 20;
    expect(weekday).to.be.greaterThan(4 * weekend);
    const office = events.filter((e) => local(e).getUTCHours() >= 9 && local(e).getUTCHours() < 17).length;
    expect(office / events.length).to.be.greaterThan(0.6);
  });

  it('uses named actors with emails, workspaces, recurring resources, and no events by people after they left', () => {
    const { events, world } = sample('3', 5000, 14);
    const byId = new Map(world.people.map((p) => [p.userId, p]));
    expect(world.people.some((p) => p.departedAfter !== undefined)).to.equal(true);
    for (const e of events) {
      if (!e.actorId) continue;
      const p = byId.get(e.actorId)!;
      expect(e.actorEmail)
        .to.equal(p.email)
        .and.match(/^[a-z]+\.[a-z]+\d*@[a-z-]+\.example\.com$/);
      expect(e.actorName).to.match(/^[A-Z][a-z]+ [A-Z][a-z]+$/);
      if (p.departedAfter !== undefined) expect(Date.parse(e.createdAt!)).to.be.below(p.departedAfter);
    }
    expect(events.filter((e) => e.workspaceId).length).to.be.greaterThan(events.length / 2);
    const workflowIds = events.filter((e) => e.resourceType === 'workflow').map((e) => e.resourceId);
    expect(new Set(workflowIds).size).to.be.below(workflowIds.length / 3); // the same workflows recur
    expect(events.every((e) => e.resourceName && Object.keys(e.metadata ?? {}).length > 0)).to.equal(true);
  });

  it('never shows a person acting after their account was deleted or they were removed from the org', () => {
    for (const seed of ['1', '2', '3', 'demo']) {
      const { events } = sample(seed, 5000, 7);
      const gone = new Map<string, number>();
      for (const e of events) {
        if (e.actorId && gone.has(e.actorId)) {
          expect.fail(
            `${e.actorId} acts (${e.action}) after ${new Date(gone.get(e.actorId)!).toISOString()}`,
          );
        }
        if (e.action === 'account.deleted' || e.action === 'org_member.removed') {
          gone.set(e.resourceId!, Date.parse(e.createdAt!));
        }
      }
    }
  });
});
