/**
 * `npm run admin -- <command>`: the operator API's directory operations from the shell. It calls the same
 * `src/directory` functions as the HTTP routes (same validation, same audit events through the ingest path).
 */
import { formatTable, runCli, stringFlag, UsageError, type Args } from './lib/cli.ts';
import { loadConfig } from '../src/config.ts';
import type { AppContext } from '../src/context.ts';
import { createApiKey, listApiKeys, revokeApiKey, type KeyRequest } from '../src/directory/api-keys.ts';
import { listMembers, putMember, removeMember } from '../src/directory/members.ts';
import { requireOrg, putOrg } from '../src/directory/orgs.ts';
import {
  keyParams,
  memberBody,
  memberParams,
  orgBody,
  orgParams,
  personalKeyBody,
  workspaceBody,
  workspaceKeyBody,
  workspaceParams,
} from '../src/directory/validators.ts';
import { listWorkspaces, putWorkspace } from '../src/directory/workspaces.ts';
import { connectForScript } from './lib/connect.ts';

const HELP = `Usage: npm run admin -- <command> [arguments] [--json]

Directory operations for operators (the same as the operator API under /api/v1/admin). Every change records
its own audit event (actor "Operator") in the org's audit log.

Commands:
  org:put <orgId> --name <name> --plan free|team|enterprise
                                  create an organization, or change its name or plan
  org:show <orgId>                the org, its workspaces, members (current / left) and API keys
  workspace:put <orgId> <workspaceId> --name <name>
                                  create a workspace, or rename it
  member:put <orgId> <userId> --email <email> --name <name> --role owner|admin|member
                                  add a member, change them, or re-add one who left
  member:remove <orgId> <userId>  the member departs (kept in the directory, marked as left)
  key:create personal --org <orgId> --user <userId>
                                  a key reading the org's audit log as that member (needs owner or admin)
  key:create workspace --org <orgId> --workspace <workspaceId> --created-by <userId>
                                  a key reading one workspace, on behalf of the member who creates it
  key:create ingest [--org <orgId>]
                                  a key posting events (bound to one org, or to any org without --org)
  key:revoke <keyId>              revoke a key of any kind

Options:
  --json   print the result as JSON

The secret of a new key is printed once; only its hash is stored. Store it right away.

Examples:
  npm run admin -- org:put acme --name "Acme Inc." --plan enterprise
  npm run admin -- workspace:put acme ws_main --name "Main"
  npm run admin -- member:put acme usr_alice --email alice@acme.com --name "Alice Smith" --role owner
  npm run admin -- key:create ingest --org acme
  npm run admin -- org:show acme

Environment: OPENSEARCH_URL (else the running local engine), AUDIT_* settings (see README).`;

/** The positional arguments after the command, exactly `names` of them. */
function positional(args: Args, ...names: string[]): string[] {
  const given = args._.slice(1);
  if (given.length !== names.length) {
    throw new UsageError(`${args._[0]} takes ${names.map((n) => `<${n}>`).join(' ') || 'no arguments'}`);
  }
  return given;
}

function print(args: Args, value: unknown, human: string): void {
  console.log(args.json ? JSON.stringify(value, null, 2) : human);
}

const fields = (o: object) =>
  Object.entries(o)
    .map(([k, v]) => `  ${k}: ${v}`)
    .join('\n');

type Command = (ctx: AppContext, args: Args) => Promise<void>;

/** Each command's own options (besides --json); one given to another command is refused. */
const COMMAND_OPTIONS: Record<string, string[]> = {
  'org:put': ['name', 'plan'],
  'org:show': [],
  'workspace:put': ['name'],
  'member:put': ['email', 'name', 'role'],
  'member:remove': [],
  'key:create': ['org', 'user', 'workspace', 'created-by'],
  'key:revoke': [],
};

const OPTIONS = {
  ...Object.fromEntries(
    [...new Set(Object.values(COMMAND_OPTIONS).flat())].map((o) => [o, { type: 'string' } as const]),
  ),
  json: { type: 'boolean' },
} as const;

const COMMANDS: Record<string, Command> = {
  'org:put': async (ctx, args) => {
    const [id] = positional(args, 'orgId');
    const { orgId } = orgParams({ orgId: id });
    const body = orgBody({ name: stringFlag(args, 'name', true), plan: stringFlag(args, 'plan', true) });
    const { org, created } = await putOrg(ctx, orgId, body);
    print(args, org, `${created ? 'Created' : 'Saved'} organization ${orgId}\n${fields(org)}`);
  },

  'org:show': async (ctx, args) => {
    const [id] = positional(args, 'orgId');
    const { orgId } = orgParams({ orgId: id });
    const org = await requireOrg(ctx, orgId);
    const [workspaces, members, keys] = await Promise.all([
      listWorkspaces(ctx, orgId),
      listMembers(ctx, orgId),
      listApiKeys(ctx, orgId),
    ]);
    if (args.json) return print(args, { org, workspaces, members, keys }, '');
    const out = [`Organization ${org.orgId}: "${org.name}", plan ${org.plan}, created ${org.createdAt}`, ''];
    out.push(`Workspaces (${workspaces.length})`);
    if (workspaces.length)
      out.push(
        formatTable(
          ['workspaceId', 'name'],
          workspaces.map((w) => [w.workspaceId, w.name]),
        ),
      );
    out.push('', `Members (${members.length})`);
    if (members.length) {
      out.push(
        formatTable(
          ['userId', 'email', 'name', 'role', 'state', 'joinedAt', 'leftAt'],
          members.map((m) => [
            m.userId,
            m.email,
            m.name,
            m.role,
            m.leftAt ? 'left' : 'current',
            m.joinedAt,
            m.leftAt ?? '',
          ]),
        ),
      );
    }
    out.push('', `API keys (${keys.length})`);
    if (keys.length) {
      out.push(
        formatTable(
          ['id', 'kind', 'scope', 'createdAt', 'revokedAt'],
          keys.map((k) => [
            k.id,
            k.kind,
            k.kind === 'personal'
              ? `user ${k.userId}`
              : k.kind === 'workspace'
                ? `${k.workspaceId} (by ${k.createdBy})`
                : 'ingest',
            k.createdAt,
            k.revokedAt ?? '',
          ]),
        ),
      );
    }
    console.log(out.join('\n'));
  },

  'workspace:put': async (ctx, args) => {
    const [o, w] = positional(args, 'orgId', 'workspaceId');
    const { orgId, workspaceId } = workspaceParams({ orgId: o, workspaceId: w });
    const body = workspaceBody({ name: stringFlag(args, 'name', true) });
    const { workspace, created } = await putWorkspace(ctx, orgId, workspaceId, body);
    print(args, workspace, `${created ? 'Created' : 'Saved'} workspace ${workspaceId}\n${fields(workspace)}`);
  },

  'member:put': async (ctx, args) => {
    const [o, u] = positional(args, 'orgId', 'userId');
    const { orgId, userId } = memberParams({ orgId: o, userId: u });
    const body = memberBody({
      email: stringFlag(args, 'email', true),
      name: stringFlag(args, 'name', true),
      role: stringFlag(args, 'role', true),
    });
    const { member, created } = await putMember(ctx, orgId, userId, body);
    print(args, member, `${created ? 'Added' : 'Saved'} member ${userId}\n${fields(member)}`);
  },

  'member:remove': async (ctx, args) => {
    const [o, u] = positional(args, 'orgId', 'userId');
    const { orgId, userId } = memberParams({ orgId: o, userId: u });
    const member = await removeMember(ctx, orgId, userId);
    print(args, member, `Member ${userId} has left ${orgId} (kept, marked as left)\n${fields(member)}`);
  },

  'key:create': async (ctx, args) => {
    const [kind] = positional(args, 'personal|workspace|ingest');
    const org = kind === 'ingest' ? stringFlag(args, 'org') : stringFlag(args, 'org', true);
    const orgId = org === undefined ? undefined : orgParams({ orgId: org }).orgId;
    let request: KeyRequest;
    if (kind === 'personal')
      request = personalKeyBody({ type: kind, userId: stringFlag(args, 'user', true) });
    else if (kind === 'workspace') {
      request = workspaceKeyBody({
        type: kind,
        workspaceId: stringFlag(args, 'workspace', true),
        createdBy: stringFlag(args, 'created-by', true),
      });
    } else if (kind === 'ingest') request = { type: 'ingest', ...(orgId ? { orgId } : {}) };
    else throw new UsageError('key:create takes personal, workspace or ingest');
    const { id, key, record } = await createApiKey(ctx, orgId, request);
    print(
      args,
      { id, key },
      `Created ${kind} key ${id}${record.orgId ? ` for organization ${record.orgId}` : ' (any organization)'}\n\n` +
        `  ${key}\n\n` +
        'Store this key now: it is shown only this once (only its hash is kept). Send it as\n' +
        '"Authorization: Bearer <key>".',
    );
  },

  'key:revoke': async (ctx, args) => {
    const [k] = positional(args, 'keyId');
    const { id } = keyParams({ id: k });
    const rec = await revokeApiKey(ctx, id);
    print(args, rec, `Revoked key ${id} at ${rec.revokedAt}; it is refused from now on.`);
  },
};

runCli(HELP, { options: OPTIONS, positionals: true }, async (args) => {
  const name = args._[0];
  const command = name ? COMMANDS[name] : undefined;
  if (!command) {
    throw new UsageError(
      name ? `unknown command "${name}"` : `a command is needed: ${Object.keys(COMMANDS).join(', ')}`,
    );
  }
  const own = COMMAND_OPTIONS[name!]!;
  const stray = Object.keys(args).find((o) => o !== '_' && o !== 'json' && !own.includes(o));
  if (stray) {
    throw new UsageError(
      `${name} takes no --${stray}` +
        (own.length ? ` (its options: ${own.map((o) => `--${o}`).join(', ')})` : ''),
    );
  }
  const cfg = loadConfig();
  const { store, close } = await connectForScript(cfg);
  try {
    await command({ cfg, store }, args);
  } finally {
    await close();
  }
});
