/**
 * The synthetic organisation `npm run seed` fills: workspaces, people (some of whom leave), and the names and
 * resources their events talk about. Everything is drawn from a seeded PRNG, so one seed is one world.
 */
import { Prng } from './prng.ts';

export interface SeedWorkspace {
  id: string;
  name: string;
}

export interface SeedPerson {
  userId: string;
  name: string;
  email: string;
  role: 'owner' | 'admin' | 'member';
  /** How active this person is relative to others (a few people do most of the work). */
  activity: number;
  /** The workspaces this person works in. */
  workspaceIds: string[];
  /** Epoch ms after which this person emits no events; set for people who have left the org. */
  departedAfter?: number;
  ipAddress: string;
  userAgent: string;
}

export interface SeedWorld {
  orgId: string;
  orgName: string;
  domain: string;
  /** Hours the org's working day is shifted from UTC (its time zone). */
  utcOffsetHours: number;
  workspaces: SeedWorkspace[];
  people: SeedPerson[];
}

const FIRST = [
  'Ada',
  'Alan',
  'Amara',
  'Ben',
  'Carla',
  'Chen',
  'Dana',
  'Diego',
  'Elena',
  'Emeka',
  'Fatima',
  'Felix',
  'Grace',
  'Hana',
  'Hugo',
  'Ines',
  'Ivan',
  'Jamal',
  'Julia',
  'Kai',
  'Keiko',
  'Lars',
  'Leila',
  'Lucas',
  'Maya',
  'Mateo',
  'Nadia',
  'Nils',
  'Olivia',
  'Omar',
  'Priya',
  'Quentin',
  'Rosa',
  'Sam',
  'Sofia',
  'Tariq',
  'Uma',
  'Victor',
  'Wen',
  'Yara',
  'Yusuf',
  'Zoe',
];
const LAST = [
  'Andersen',
  'Baptiste',
  'Costa',
  'Dubois',
  'Eriksson',
  'Fischer',
  'Garcia',
  'Hoffmann',
  'Ibrahim',
  'Jensen',
  'Kowalski',
  'Laurent',
  'Moreau',
  'Nakamura',
  'Okafor',
  'Petrov',
  'Quinn',
  'Rossi',
  'Schmidt',
  'Tanaka',
  'Ulrich',
  'Varga',
  'Weber',
  'Xu',
  'Yilmaz',
  'Zhang',
  'Novak',
  'Silva',
  'Murphy',
  'Kim',
];
const COMPANY = [
  'Northwind',
  'Acme',
  'Globex',
  'Initech',
  'Umbrella',
  'Hooli',
  'Vandelay',
  'Stark',
  'Wayne',
  'Tyrell',
];
const COMPANY_SUFFIX = ['Labs', 'Industries', 'Logistics', 'Health', 'Finance', 'Retail', 'Systems'];
const WORKSPACES = [
  'Customer Support',
  'Sales Operations',
  'Marketing',
  'Engineering',
  'Finance',
  'People & HR',
  'Legal',
  'Data Platform',
  'Growth',
  'Product',
  'Security',
  'Partnerships',
  'Field Ops',
  'Research',
];
const USER_AGENTS = [
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
  'Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
];
const UTC_OFFSETS = [-8, -5, 0, 1, 2, 5.5, 9];

const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

export interface WorldOptions {
  orgId: string;
  seed: string;
  workspaces: number;
  members: number;
  /** The seeded window, epoch ms: departures fall inside it. */
  from: number;
  to: number;
}

export function buildWorld(opts: WorldOptions): SeedWorld {
  const rng = new Prng(`${opts.seed}:world:${opts.orgId}`);
  const company = `${rng.pick(COMPANY)} ${rng.pick(COMPANY_SUFFIX)}`;
  const domain = `${slug(company)}.example.com`;

  const wsNames = [...WORKSPACES];
  const workspaces: SeedWorkspace[] = [];
  for (let i = 0; i < opts.workspaces; i++) {
    const base = wsNames.length > 0 ? wsNames.splice(rng.int(0, wsNames.length - 1), 1)[0]! : `Team ${i + 1}`;
    const name = workspaces.some((w) => w.name === base) ? `${base} ${i + 1}` : base;
    workspaces.push({ id: `ws_${slug(name).replace(/-/g, '_')}`, name });
  }

  const people: SeedPerson[] = [];
  const usedEmails = new Set<string>();
  for (let i = 0; i < opts.members; i++) {
    const first = rng.pick(FIRST);
    const last = rng.pick(LAST);
    let email = `${slug(first)}.${slug(last)}@${domain}`;
    for (let n = 2; usedEmails.has(email); n++) email = `${slug(first)}.${slug(last)}${n}@${domain}`;
    usedEmails.add(email);
    const role = i === 0 ? 'owner' : rng.chance(0.12) ? 'admin' : 'member';
    // About one in seven has left, at some point inside the window (never the owner).
    const departed = i > 0 && rng.chance(0.15);
    const homes = new Set<string>();
    const homeCount = Math.min(workspaces.length, rng.int(1, 3));
    while (homes.size < homeCount) homes.add(rng.pick(workspaces).id);
    people.push({
      userId: `user_${String(i + 1).padStart(4, '0')}_${slug(first)}`,
      name: `${first} ${last}`,
      email,
      role,
      // Pareto-like: a few people are ten times as active as most.
      activity: 1 / Math.pow(1 - rng.next() * 0.9, 1.2),
      workspaceIds: [...homes],
      ...(departed ? { departedAfter: opts.from + rng.next() * (opts.to - opts.from) } : {}),
      ipAddress: `203.0.113.${rng.int(1, 254)}`,
      userAgent: rng.pick(USER_AGENTS),
    });
  }
  return {
    orgId: opts.orgId,
    orgName: company,
    domain,
    utcOffsetHours: rng.pick(UTC_OFFSETS),
    workspaces,
    people,
  };
}
