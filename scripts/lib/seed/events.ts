/**
 * Synthetic audit events for `npm run seed`: catalogue event types weighted the way a product is used
 * (edits and runs far more often than deletions, billing rarely), by the world's people in their workspaces,
 * on resources that recur, with plausible names and metadata, spread over the window with a daily and a
 * weekly rhythm (working hours of the org's time zone, quiet weekends). Events come out in createdAt order,
 * one at a time, so memory stays flat for any count.
 */
import { DAY_MS } from '../../../src/days.ts';
import { ulid } from 'ulid';
import { EVENT_CATALOGUE } from '../../../src/events/catalogue.ts';
import type { EventInput } from '../../../src/events/schema.ts';
import { Prng, WeightedPicker } from './prng.ts';
import type { SeedPerson, SeedWorld } from './world.ts';

const HOUR_MS = 3_600_000;
/** How often each resource's events happen relative to others (default 0.5). */
const RESOURCE_WEIGHT: Record<string, number> = {
  workflow: 30,
  file: 10,
  document: 8,
  knowledge_base: 6,
  chat: 5,
  table: 5,
  credential: 5,
  folder: 4,
  schedule: 4,
  connector: 4,
  connector_document: 2,
  custom_tool: 2,
  member: 2,
  api_key: 1.5,
  skill: 2,
  workspace: 2,
  environment: 2,
  webhook: 1,
  mcp_server: 1,
  permission_group: 1,
  permission_group_member: 1,
  org_member: 1,
  invitation: 1,
  org_invitation: 1,
  data_drain: 1,
  custom_block: 1,
  credential_member: 1,
  personal_api_key: 0.8,
  password: 0.6,
  oauth: 0.3,
  organization: 0.15,
  'organization.domain': 0.05,
  'organization.session_policy': 0.05,
  'organization.sessions': 0.05,
  org_seat: 0.2,
  org_plan: 0.02,
  subscription: 0.05,
  invoice: 0.1,
  credit: 0.1,
  billing: 0.05,
  charge: 0.01,
  account: 0.01,
  byok_key: 0.1,
  secret_provenance: 0.05,
  credential_group: 0.3,
};
/** How often each action happens relative to others on the same resource (default 1). */
const ACTION_WEIGHT: Record<string, number> = {
  updated: 8,
  accessed: 6,
  ran: 6,
  synced: 5,
  created: 3,
  uploaded: 4,
  downloaded: 4,
  deployed: 2,
  variables_updated: 2,
  shared: 1.5,
  moved: 1.2,
  deleted: 0.8,
  removed: 0.6,
  restored: 0.2,
  revoked: 0.4,
  payment_failed: 0.05,
  dispute_opened: 0.3,
  dispute_closed: 0.3,
  enterprise_provisioned: 0.05,
  account: 0.01,
};
/** Resources that belong to the org as a whole, not to one workspace. */
const ORG_LEVEL = new Set([
  'account',
  'billing',
  'charge',
  'credit',
  'invoice',
  'subscription',
  'organization',
  'organization.domain',
  'organization.session_policy',
  'organization.sessions',
  'org_member',
  'org_invitation',
  'org_seat',
  'org_plan',
  'personal_api_key',
  'password',
  'byok_key',
]);
/** Event types the system emits on its own (no actor), some of the time. */
const SYSTEM_EVENTS = new Set([
  'invoice.payment_succeeded',
  'invoice.payment_failed',
  'billing.overage_billed',
  'charge.dispute_opened',
  'charge.dispute_closed',
  'connector.synced',
  'data_drain.ran',
  'schedule.ran',
  'org_seat.provisioned',
  'org_seat.deprovisioned',
  'subscription.created',
  'credit.issued',
]);
/** Events that end a person's place in the org: their subject is someone who has left (and acts no more). */
const ENDS_MEMBERSHIP = new Set(['account.deleted', 'org_member.removed']);
/** Resources whose subject is a person of the org. */
const PERSON_RESOURCES = new Set([
  'member',
  'org_member',
  'invitation',
  'org_invitation',
  'credential_member',
  'skill_member',
  'permission_group_member',
  'password',
  'account',
]);

const NAMES: Record<string, string[]> = {
  workflow: [
    'Customer Onboarding',
    'Invoice Reminder',
    'Lead Scoring',
    'Support Triage',
    'Weekly Report Digest',
    'Churn Alert',
    'Contract Review',
    'Expense Approval',
    'Candidate Screening',
    'Renewal Outreach',
    'Incident Escalation',
    'Order Sync',
    'Feedback Summariser',
    'Meeting Notes to CRM',
    'Refund Handling',
  ],
  file: [
    'q3-revenue-report.pdf',
    'pricing-2024.xlsx',
    'brand-guidelines.pdf',
    'customer-list.csv',
    'roadmap.pptx',
    'onboarding-checklist.docx',
    'security-policy.pdf',
    'invoice-0042.pdf',
    'logo.png',
  ],
  document: [
    'Product Requirements: Search',
    'Onboarding Guide',
    'Support Playbook',
    'Release Notes',
    'API Integration Notes',
    'Quarterly OKRs',
    'Runbook: Database Failover',
  ],
  knowledge_base: [
    'Support Articles',
    'Engineering Handbook',
    'Sales Enablement',
    'HR Policies',
    'Product FAQ',
  ],
  chat: ['Support Assistant', 'HR Helpdesk', 'Sales Copilot', 'IT Service Desk'],
  table: ['customers', 'orders', 'leads', 'tickets', 'invoices', 'inventory', 'employees'],
  credential: [
    'Slack (ops bot)',
    'Salesforce Production',
    'OpenAI API',
    'GitHub Deploy Key',
    'Google Workspace',
    'Stripe Live',
    'Zendesk',
    'Postgres Analytics',
  ],
  connector: ['Google Drive', 'Notion', 'Confluence', 'Zendesk', 'HubSpot', 'SharePoint'],
  connector_document: ['Pricing FAQ', 'Travel Policy', 'Escalation Matrix', 'Holiday Calendar'],
  folder: ['Contracts', 'Reports', 'Templates', 'Archive', 'Invoices', 'Design'],
  schedule: ['Nightly sync 02:00', 'Every Monday 09:00', 'Hourly digest', 'Month-end close'],
  custom_tool: ['Currency Converter', 'CRM Lookup', 'Ticket Creator', 'PDF Extractor'],
  custom_block: ['Approval Step', 'Address Validator', 'Sentiment Scorer'],
  skill: ['Summarise Calls', 'Draft Replies', 'Classify Tickets'],
  api_key: ['CI deploy key', 'Zapier integration', 'Data warehouse export', 'Mobile app backend'],
  personal_api_key: ['Local development', 'CLI access', 'Notebook'],
  webhook: ['Slack #alerts', 'PagerDuty', 'Billing events'],
  mcp_server: ['Filesystem', 'GitHub', 'Postgres', 'Browser'],
  environment: ['production', 'staging', 'development'],
  permission_group: ['Finance Reviewers', 'Workflow Editors', 'Read-only Auditors'],
  data_drain: ['S3 audit archive', 'BigQuery export', 'Splunk forwarder'],
};

function buildTypes(): { picker: WeightedPicker<{ resource: string; action: string }> } {
  const items: { resource: string; action: string }[] = [];
  const weights: number[] = [];
  for (const e of EVENT_CATALOGUE) {
    const rw = RESOURCE_WEIGHT[e.resource] ?? 0.5;
    const aw = e.actions.map((a) => ACTION_WEIGHT[a] ?? 1);
    const sum = aw.reduce((s, w) => s + w, 0);
    e.actions.forEach((action, i) => {
      items.push({ resource: e.resource, action });
      weights.push((rw * aw[i]!) / sum);
    });
  }
  return { picker: new WeightedPicker(items, weights) };
}

/** Relative activity at a local hour of the day: working hours, a dip at lunch, a little at night. */
function hourWeight(h: number): number {
  if (h >= 9 && h < 12) return 1;
  if (h === 12) return 0.6;
  if (h >= 13 && h < 17) return 0.95;
  if (h === 8 || h === 17) return 0.5;
  if (h === 7 || (h >= 18 && h < 21)) return 0.2;
  return 0.04;
}

/** Relative activity on a local weekday (0 = Sunday). */
const DAY_WEIGHT = [0.12, 1, 1.05, 1, 0.95, 0.8, 0.15];

export interface GenerateOptions {
  world: SeedWorld;
  seed: string;
  events: number;
  /** The window: UTC midnight of the first day (epoch ms) up to `to` (exclusive). */
  from: number;
  to: number;
}

/**
 * The seeded window: the UTC day of `until`'s last moment and the `days - 1` days before it, up to `until`.
 * The last moment, not `until` itself: a window that ends at midnight (the default end, in the first hour of a
 * UTC day) covers the `days` days before it instead of an empty today.
 */
export function seedWindow(days: number, until: Date): { from: number; to: number } {
  const last = new Date(until.getTime() - 1);
  const day = Date.UTC(last.getUTCFullYear(), last.getUTCMonth(), last.getUTCDate());
  return { from: day - (days - 1) * DAY_MS, to: until.getTime() };
}

/**
 * The default end of the window: the start of the current UTC hour, so a re-run within the same hour
 * generates the same events (pass an explicit end to repeat a seed later).
 */
export function defaultUntil(now = new Date()): Date {
  return new Date(Math.floor(now.getTime() / HOUR_MS) * HOUR_MS);
}

/**
 * How many events fall in each hour of the window: the rhythm's weight times a little day-to-day noise,
 * apportioned by largest remainder so the counts add up to exactly `total`.
 */
export function hourlyCounts(opts: GenerateOptions, rng: Prng): number[] {
  const hours = Math.ceil((opts.to - opts.from) / HOUR_MS);
  const weights: number[] = [];
  let dayNoise = 1;
  for (let i = 0; i < hours; i++) {
    const start = opts.from + i * HOUR_MS;
    const local = new Date(start + opts.world.utcOffsetHours * HOUR_MS);
    if (i % 24 === 0) dayNoise = 0.8 + rng.next() * 0.4;
    const covered = Math.min(1, (opts.to - start) / HOUR_MS); // the current hour is only partly past
    const hourNoise = 0.85 + rng.next() * 0.3;
    weights.push(
      hourWeight(local.getUTCHours()) * DAY_WEIGHT[local.getUTCDay()]! * dayNoise * hourNoise * covered,
    );
  }
  const sum = weights.reduce((s, w) => s + w, 0);
  const exact = weights.map((w) => (opts.events * w) / sum);
  const counts = exact.map(Math.floor);
  let left = opts.events - counts.reduce((s, c) => s + c, 0);
  const byRemainder = exact
    .map((e, i) => [e - Math.floor(e), i] as const)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of byRemainder) {
    if (left-- <= 0) break;
    counts[i]!++;
  }
  return counts;
}

interface Resource {
  id: string;
  name: string;
}

/** Events in createdAt order. Same options and seed, same events (ids included). */
export function* generateEvents(opts: GenerateOptions): Generator<EventInput> {
  const rng = new Prng(`${opts.seed}:events:${opts.world.orgId}`);
  const { picker: types } = buildTypes();
  const people = opts.world.people;
  const actors = new WeightedPicker(
    people,
    people.map((p) => p.activity),
  );
  // Recurring resources per (workspace, resource type), capped so memory stays flat.
  const pools = new Map<string, Resource[]>();
  const counts = hourlyCounts(opts, rng);

  for (let h = 0; h < counts.length; h++) {
    const start = opts.from + h * HOUR_MS;
    const end = Math.min(start + HOUR_MS, opts.to);
    const times: number[] = [];
    for (let k = 0; k < counts[h]!; k++) times.push(start + Math.floor(rng.next() * (end - start)));
    times.sort((a, b) => a - b);
    for (const t of times) yield makeEvent(t);
  }

  function makeEvent(t: number): EventInput {
    let { resource, action } = types.pick(rng);
    const left = people.filter((p) => p.departedAfter !== undefined && p.departedAfter <= t);
    // Nobody has left yet: nobody can be removed or deleted.
    while (ENDS_MEMBERSHIP.has(`${resource}.${action}`) && left.length === 0)
      ({ resource, action } = types.pick(rng));
    const type = `${resource}.${action}`;
    const system = SYSTEM_EVENTS.has(type) && rng.chance(0.7);
    const actor = system ? undefined : pickActor(t);
    const workspaceId = ORG_LEVEL.has(resource)
      ? undefined
      : actor
        ? rng.pick(actor.workspaceIds)
        : rng.pick(opts.world.workspaces).id;
    const subject = PERSON_RESOURCES.has(resource)
      ? rng.pick(ENDS_MEMBERSHIP.has(type) ? left : people)
      : undefined;
    const target = subject
      ? { id: subject.userId, name: subject.name }
      : resourceFor(resource, action, workspaceId ?? 'org');
    const resourceType = resource.split('.')[0]!;
    return {
      id: ulid(t, () => rng.next()),
      action: type,
      resourceType,
      resourceId: target.id,
      resourceName: target.name,
      ...(actor
        ? {
            actorId: actor.userId,
            actorName: actor.name,
            actorEmail: actor.email,
            ipAddress: actor.ipAddress,
            userAgent: actor.userAgent,
          }
        : {}),
      ...(workspaceId ? { workspaceId } : {}),
      metadata: metadataFor(action, resource, subject),
      createdAt: new Date(t).toISOString(),
    };
  }

  /** An active person (people who left emit nothing after they left). */
  function pickActor(t: number): SeedPerson {
    for (let tries = 0; tries < 20; tries++) {
      const p = actors.pick(rng);
      if (p.departedAfter === undefined || t < p.departedAfter) return p;
    }
    return people[0]!; // the owner never leaves
  }

  function resourceFor(resource: string, action: string, scope: string): Resource {
    const key = `${scope}/${resource}`;
    let pool = pools.get(key);
    if (!pool) pools.set(key, (pool = []));
    if (pool.length > 0 && !(action === 'created' && pool.length < 200) && !rng.chance(0.03)) {
      return rng.pick(pool);
    }
    const names = NAMES[resource] ?? [];
    const base = names.length > 0 ? rng.pick(names) : `${resource.replace(/[._]/g, ' ')} ${pool.length + 1}`;
    const name = pool.some((r) => r.name === base) ? `${base} (${pool.length + 1})` : base;
    const r = {
      id: `${resource.split('.')[0]!.slice(0, 4)}_${ulid(0, () => rng.next())
        .slice(10)
        .toLowerCase()}`,
      name,
    };
    if (pool.length < 200) pool.push(r);
    else pool[rng.int(0, pool.length - 1)] = r;
    return r;
  }

  /** One to three distinct items. */
  function pickSome(items: string[]): string[] {
    const out = new Set<string>();
    const n = rng.int(1, 3);
    while (out.size < n) out.add(rng.pick(items));
    return [...out];
  }

  function metadataFor(action: string, resource: string, subject?: SeedPerson): Record<string, unknown> {
    const source = rng.next() < 0.8 ? 'web' : rng.chance(0.7) ? 'api' : 'cli';
    switch (action) {
      case 'updated':
      case 'renamed':
        return {
          source,
          changedFields: pickSome(['name', 'description', 'settings', 'permissions', 'schedule']),
        };
      case 'role_changed':
        return {
          source,
          from: 'member',
          to: rng.chance(0.7) ? 'admin' : 'owner',
          ...(subject ? { userEmail: subject.email } : {}),
        };
      case 'uploaded':
      case 'downloaded':
        return {
          source,
          sizeBytes: rng.int(2_000, 40_000_000),
          mimeType: rng.pick(['application/pdf', 'text/csv', 'image/png']),
        };
      case 'deployed':
      case 'deployment_activated':
        return { source, version: rng.int(1, 80), environment: rng.chance(0.8) ? 'production' : 'staging' };
      case 'ran':
      case 'synced':
        return { source, durationMs: rng.int(200, 90_000), itemsProcessed: rng.int(0, 5_000) };
      case 'payment_succeeded':
      case 'payment_failed':
      case 'purchased':
        return {
          amountCents: rng.int(5_000, 2_500_000),
          currency: 'USD',
          invoiceNumber: `INV-${rng.int(1000, 99999)}`,
        };
      case 'moved':
        return { source, fromFolder: rng.pick(NAMES.folder!), toFolder: rng.pick(NAMES.folder!) };
      case 'shared':
        return { source, sharedWith: rng.pick(people).email, permission: rng.chance(0.7) ? 'view' : 'edit' };
      case 'invited':
      case 'added':
        return resource.includes('member') || resource.includes('invitation')
          ? { source, ...(subject ? { email: subject.email } : {}), role: 'member' }
          : { source };
      default:
        return { source };
    }
  }
}
