/**
 * The event catalogue: every event type a producer emits today, as data,
 * which of them are destructive, and the human description written when a producer sends none.
 * The service accepts any well-formed type; the catalogue only makes the known ones read well.
 */

export interface CatalogueEntry {
  /** The part of the event type before the action, e.g. `workflow` or `organization.domain`. */
  resource: string;
  /** Human label of the resource, e.g. "knowledge base", "API key". */
  label: string;
  actions: readonly string[];
}

const entry = (resource: string, label: string, actions: string): CatalogueEntry => ({
  resource,
  label,
  actions: actions.split(/,\s*/),
});

export const EVENT_CATALOGUE: readonly CatalogueEntry[] = [
  entry('account', 'account', 'deleted'),
  entry('api_key', 'API key', 'created, updated, revoked'),
  entry(
    'audit_stream',
    'audit log stream',
    'created, updated, deleted, paused, resumed, replayed, tested, disabled',
  ),
  entry('personal_api_key', 'personal API key', 'created, revoked'),
  entry('byok_key', 'BYOK key', 'created, updated, deleted'),
  entry('chat', 'chat', 'deployed, updated, deleted, password_viewed'),
  entry('custom_block', 'custom block', 'published, updated, deleted'),
  entry('custom_tool', 'custom tool', 'created, updated, deleted'),
  entry('data_drain', 'data drain', 'created, updated, deleted, ran, tested'),
  entry('credit', 'credits', 'purchased, issued'),
  entry('invoice', 'invoice', 'payment_succeeded, payment_failed'),
  entry('billing', 'billing', 'overage_billed'),
  entry('charge', 'charge', 'dispute_opened, dispute_closed'),
  entry('subscription', 'subscription', 'created, cancelled, refunded, transferred, enterprise_provisioned'),
  entry('connector_document', 'connector document', 'restored, excluded'),
  entry('document', 'document', 'uploaded, updated, deleted'),
  entry('environment', 'environment', 'updated, deleted'),
  entry('secret_provenance', 'secret provenance', 'unrecorded'),
  entry('file', 'file', 'uploaded, updated, deleted, restored, moved, shared, share_disabled, downloaded'),
  entry('folder', 'folder', 'created, updated, deleted, moved, duplicated, restored'),
  entry('invitation', 'invitation', 'accepted, rejected, resent, revoked, updated'),
  entry('connector', 'connector', 'created, updated, deleted, synced'),
  entry('knowledge_base', 'knowledge base', 'created, updated, deleted, restored'),
  entry('mcp_server', 'MCP server', 'added, updated, removed'),
  entry('member', 'member', 'invited, added, removed, role_changed'),
  entry('oauth', 'OAuth connection', 'disconnected'),
  entry('credential', 'credential', 'created, updated, renamed, reconnected, deleted, accessed'),
  entry('credential_member', 'credential member', 'added, removed, role_changed'),
  entry('credential_group', 'credential group', 'updated'),
  entry('password', 'password', 'reset_requested, reset'),
  entry('organization', 'organization', 'created, updated, deleted'),
  entry('organization.session_policy', 'organization session policy', 'updated'),
  entry('organization.sessions', 'organization sessions', 'revoked'),
  entry('organization.domain', 'organization domain', 'added, verified, removed'),
  entry('org_member', 'organization member', 'added, removed, role_changed, usage_limit_changed'),
  entry(
    'org_invitation',
    'organization invitation',
    'created, updated, accepted, rejected, cancelled, revoked, resent',
  ),
  entry('org_seat', 'organization seat', 'provisioned, deprovisioned'),
  entry('org_plan', 'organization plan', 'converted'),
  entry('permission_group', 'permission group', 'created, updated, deleted'),
  entry('permission_group_member', 'permission group member', 'added, removed'),
  entry('skill', 'skill', 'created, updated, deleted'),
  entry('skill_member', 'skill member', 'added, removed'),
  entry('schedule', 'schedule', 'created, updated, deleted'),
  entry('table', 'table', 'created, updated, deleted, restored, exported'),
  entry('webhook', 'webhook', 'created, deleted'),
  entry(
    'workflow',
    'workflow',
    'created, updated, deleted, restored, deployed, undeployed, duplicated, deployment_activated, ' +
      'deployment_reverted, locked, unlocked, fork_sync_excluded, fork_sync_included, variables_updated, ' +
      'public_api_toggled, exported',
  ),
  entry(
    'workspace',
    'workspace',
    'created, updated, deleted, duplicated, forked, fork_promoted, fork_rolled_back, fork_unlinked, exported',
  ),
];

/** Every catalogued event type (`resource.action`), in catalogue order: the page's event filter offers these. */
export const EVENT_TYPES: readonly string[] = EVENT_CATALOGUE.flatMap((e) =>
  e.actions.map((a) => `${e.resource}.${a}`),
);

const BY_RESOURCE = new Map(EVENT_CATALOGUE.map((e) => [e.resource, e]));

/** Actions that take something away (data, access, a grant): the page marks events with these. */
const DESTRUCTIVE_ACTIONS = new Set([
  'deleted',
  'removed',
  'revoked',
  'disconnected',
  'cancelled',
  'deprovisioned',
  'rejected',
  'undeployed',
  'share_disabled',
  'fork_unlinked',
]);

/** Whether an event type (`workflow.deleted`) or a bare action (`deleted`) is destructive. */
export function isDestructive(action: string): boolean {
  return DESTRUCTIVE_ACTIONS.has(action.slice(action.lastIndexOf('.') + 1));
}

/**
 * Sentences per action. `{r}` is the resource label followed by its name or id (`workflow "Onboarding"`);
 * `{for}` is ` for "<name>"` (or nothing) where the label would read badly.
 */
const PHRASES: Record<string, string> = {
  accepted: 'Accepted {r}',
  accessed: 'Accessed {r}',
  added: 'Added {r}',
  cancelled: 'Cancelled {r}',
  converted: 'Converted {r}',
  created: 'Created {r}',
  deleted: 'Deleted {r}',
  deployed: 'Deployed {r}',
  disabled: 'Disabled {r}',
  deployment_activated: 'Activated a deployment of {r}',
  deployment_reverted: 'Reverted the deployment of {r}',
  deprovisioned: 'Deprovisioned {r}',
  disconnected: 'Disconnected {r}',
  dispute_closed: 'Closed a dispute on {r}',
  dispute_opened: 'Opened a dispute on {r}',
  downloaded: 'Downloaded {r}',
  duplicated: 'Duplicated {r}',
  enterprise_provisioned: 'Provisioned enterprise {r}',
  excluded: 'Excluded {r}',
  exported: 'Exported {r}',
  fork_promoted: 'Promoted forked {r}',
  fork_rolled_back: 'Rolled back forked {r}',
  fork_sync_excluded: 'Excluded {r} from fork sync',
  fork_sync_included: 'Included {r} in fork sync',
  fork_unlinked: 'Unlinked forked {r}',
  forked: 'Forked {r}',
  invited: 'Invited {r}',
  issued: 'Issued {r}',
  locked: 'Locked {r}',
  moved: 'Moved {r}',
  password_viewed: 'Viewed the password of {r}',
  paused: 'Paused {r}',
  payment_failed: 'Payment failed for {r}',
  payment_succeeded: 'Payment succeeded for {r}',
  provisioned: 'Provisioned {r}',
  public_api_toggled: 'Toggled the public API of {r}',
  published: 'Published {r}',
  purchased: 'Purchased {r}',
  ran: 'Ran {r}',
  reconnected: 'Reconnected {r}',
  refunded: 'Refunded {r}',
  rejected: 'Rejected {r}',
  removed: 'Removed {r}',
  replayed: 'Replayed {r}',
  renamed: 'Renamed {r}',
  resent: 'Resent {r}',
  restored: 'Restored {r}',
  resumed: 'Resumed {r}',
  revoked: 'Revoked {r}',
  role_changed: 'Changed the role of {r}',
  share_disabled: 'Disabled sharing of {r}',
  shared: 'Shared {r}',
  synced: 'Synced {r}',
  tested: 'Tested {r}',
  transferred: 'Transferred {r}',
  undeployed: 'Undeployed {r}',
  unlocked: 'Unlocked {r}',
  unrecorded: 'Cleared {r}',
  updated: 'Updated {r}',
  uploaded: 'Uploaded {r}',
  usage_limit_changed: 'Changed the usage limit of {r}',
  variables_updated: 'Updated the variables of {r}',
  verified: 'Verified {r}',
};

/** Whole event types whose sentence cannot be built from the resource label. */
const TYPE_PHRASES: Record<string, string> = {
  'billing.overage_billed': 'Billed usage overage{for}',
  'password.reset': 'Reset the password{for}',
  'password.reset_requested': 'Requested a password reset{for}',
};

export interface Describable {
  action: string;
  resourceType: string;
  resourceName?: string | null;
  resourceId?: string | null;
}

/** "knowledge_base" → "knowledge base" (for resources outside the catalogue). */
function humanize(s: string): string {
  return s.replace(/[._]+/g, ' ').trim();
}

/** The human description of an event, e.g. `workflow.created` + "Customer Onboarding" → `Created workflow "Customer Onboarding"`. */
export function describe(event: Describable): string {
  const dot = event.action.lastIndexOf('.');
  const resource = event.action.slice(0, dot);
  const verb = event.action.slice(dot + 1);
  const label = BY_RESOURCE.get(resource)?.label ?? humanize(resource || event.resourceType);
  const subject = event.resourceName ? `"${event.resourceName}"` : (event.resourceId ?? '');
  const r = subject ? `${label} ${subject}` : label;
  let phrase = TYPE_PHRASES[event.action] ?? PHRASES[verb];
  // An unknown single-word past tense ("archived") still reads as a verb; anything else gets a neutral sentence.
  if (!phrase)
    phrase = /^[a-z]+ed$/.test(verb)
      ? `${verb[0]!.toUpperCase()}${verb.slice(1)} {r}`
      : `Recorded "${event.action}" on {r}`;
  return phrase.replace('{r}', r).replace('{for}', subject ? ` for ${subject}` : '');
}
