/**
 * Applies what `index-templates/` defines, idempotently, and says what changed: the audit index template,
 * the ISM lifecycle policy (where the cluster has the index-management plugin) and the internal indices.
 * Run at every service start and by `npm run setup`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { PROJECT_ROOT, type Config } from '../config.ts';
import { statusOf, type Store } from './client.ts';
import { isServerless } from './connection.ts';
import { AUDIT_INDEX_PATTERN, ISM_POLICY_ID, MONTH_INDEX_PREFIX, TEMPLATE_NAME } from './names.ts';
import { readRetentionSetting } from './settings.ts';

export const TEMPLATES_DIR = path.join(PROJECT_ROOT, 'index-templates');

export interface Change {
  kind: 'index template' | 'audit indices' | 'ISM policy' | 'internal index' | 'record ids';
  name: string;
  action: 'created' | 'updated' | 'unchanged' | 'skipped';
  detail?: string;
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function readJson(file: string): Json {
  return JSON.parse(fs.readFileSync(path.join(TEMPLATES_DIR, file), 'utf8')) as Json;
}

/** The audit index template with shard and replica counts from the configuration. */
export function desiredTemplate(cfg: Pick<Config, 'indexShards' | 'indexReplicas'>): Json {
  const t = readJson('audit-logs.template.json');
  t.template.settings['index.number_of_shards'] = cfg.indexShards;
  t.template.settings['index.number_of_replicas'] = cfg.indexReplicas;
  return t;
}

/** The ISM policy with its ages: AUDIT_SEAL_AFTER_DAYS and the retention in effect. */
export function desiredPolicy(cfg: Pick<Config, 'sealAfterDays' | 'retentionDays'>): Json {
  const p = readJson('audit-logs.ism-policy.json');
  const byName = (n: string) => p.policy.states.find((s: Json) => s.name === n);
  byName('hot').transitions[0].conditions.min_index_age = `${cfg.sealAfterDays}d`;
  byName('sealed').transitions[0].conditions.min_index_age = `${cfg.retentionDays}d`;
  return p;
}

/**
 * Settings of an internal index that follow its definition also once it exists: how the service relies on it
 * being written and refreshed. Others (shards, replicas) stay as the index was created or an operator set them.
 */
const FOLLOWED_SETTINGS = new Set(['index.refresh_interval', 'index.translog.durability']);

export function internalIndexDefinitions(): { name: string; body: Json }[] {
  const dir = path.join(TEMPLATES_DIR, 'internal');
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ name: f.replace(/\.json$/, ''), body: readJson(path.join('internal', f)) }));
}

/** Whether the cluster runs the index-management (ISM) plugin. */
export async function hasIsm(store: Store): Promise<boolean> {
  const res = await store.cat.plugins({ format: 'json' });
  return (res.body as { component: string }[]).some((p) => p.component === 'opensearch-index-management');
}

export async function applyTemplates(store: Store, cfg: Config): Promise<Change[]> {
  const changes: Change[] = [];

  // Internal indices: created when missing; mappings are additive, so a newer definition is put on top.
  for (const { name, body } of internalIndexDefinitions()) {
    const exists = (await store.indices.exists({ index: name })).body;
    if (!exists) {
      try {
        // Replicas as AUDIT_INDEX_REPLICAS says, like the day indices: on a cluster, losing one node loses none.
        const settings = { ...(body.settings ?? {}), 'index.number_of_replicas': cfg.indexReplicas };
        await store.indices.create({ index: name, body: { ...body, settings } as never });
        changes.push({ kind: 'internal index', name, action: 'created' });
      } catch (err) {
        // Another instance created it between our check and our create.
        if (statusOf(err) !== 400) throw err;
        changes.push({ kind: 'internal index', name, action: 'unchanged' });
      }
      continue;
    }
    const current = (await store.indices.getMapping({ index: name })).body[name]?.mappings ?? {};
    const merged = {
      ...current,
      properties: { ...(current.properties ?? {}), ...(body.mappings?.properties ?? {}) },
    };
    let updated = false;
    if (!isDeepStrictEqual(merged, current)) {
      await store.indices.putMapping({
        index: name,
        body: { properties: body.mappings.properties } as never,
      });
      updated = true;
    }
    // E.g. the ledger's refresh_interval, for indices created before the definition had it.
    const wanted = flattenSettings(body.settings ?? {});
    const have = flattenSettings(
      ((await store.indices.getSettings({ index: name })).body as Json)[name]?.settings ?? {},
    );
    const differ = Object.fromEntries(
      Object.entries(wanted).filter(([k, v]) => FOLLOWED_SETTINGS.has(k) && have[k] !== v),
    );
    if (Object.keys(differ).length > 0) {
      await store.indices.putSettings({ index: name, body: differ as never });
      updated = true;
    }
    changes.push({ kind: 'internal index', name, action: updated ? 'updated' : 'unchanged' });
  }

  // The composable template for the day indices.
  const template = desiredTemplate(cfg);
  let currentTemplate: Json | undefined;
  try {
    const res = await store.indices.getIndexTemplate({ name: TEMPLATE_NAME });
    currentTemplate = (res.body as Json).index_templates?.[0]?.index_template;
  } catch (err) {
    if (statusOf(err) !== 404) throw err;
  }
  if (currentTemplate && sameTemplate(currentTemplate, template)) {
    changes.push({ kind: 'index template', name: TEMPLATE_NAME, action: 'unchanged' });
  } else {
    await store.indices.putIndexTemplate({ name: TEMPLATE_NAME, body: template as never });
    changes.push({
      kind: 'index template',
      name: TEMPLATE_NAME,
      action: currentTemplate ? 'updated' : 'created',
    });
  }
  changes.push(await extendAuditMappings(store, template.template.mappings.properties));

  // The ISM policy, where the plugin exists; elsewhere the service's lifecycle sweep does the same job.
  // Serverless has neither the plugin list nor ISM.
  if (isServerless(cfg.opensearch) || !(await hasIsm(store))) {
    changes.push({
      kind: 'ISM policy',
      name: ISM_POLICY_ID,
      action: 'skipped',
      detail: 'the cluster has no index-management plugin; the in-service lifecycle sweep applies the policy',
    });
    return changes;
  }
  // The retention stored in the cluster wins over this process's AUDIT_RETENTION_DAYS (retention-setting.ts).
  const retentionDays = (await readRetentionSetting(store))?.days ?? cfg.retentionDays;
  const policy = desiredPolicy({ ...cfg, retentionDays });
  const policyPath = `/_plugins/_ism/policies/${ISM_POLICY_ID}`;
  let current: Json | undefined;
  try {
    current = (await store.transport.request({ method: 'GET', path: policyPath })).body as Json;
  } catch (err) {
    if (statusOf(err) !== 404) throw err;
  }
  if (current && samePolicy(current.policy, policy.policy)) {
    changes.push({ kind: 'ISM policy', name: ISM_POLICY_ID, action: 'unchanged' });
  } else {
    const qs = current ? `?if_seq_no=${current._seq_no}&if_primary_term=${current._primary_term}` : '';
    await store.transport.request({ method: 'PUT', path: `${policyPath}${qs}`, body: policy });
    changes.push({ kind: 'ISM policy', name: ISM_POLICY_ID, action: current ? 'updated' : 'created' });
  }
  return changes;
}

/** The day indices and the (hidden) month indices: their mappings are the audit template's. */
const AUDIT_MAPPED = `${AUDIT_INDEX_PATTERN},${MONTH_INDEX_PREFIX}*`;

/**
 * Adds to existing day and month indices the fields the template has and they lack. Their mappings are strict,
 * so without it an event carrying a new field would be refused by the day it falls on, and its copy by the
 * month it is consolidated into. A read-only index (flood-stage disk) refuses mapping changes: skipped, for the
 * next start or `npm run setup` to finish.
 */
async function extendAuditMappings(store: Store, properties: Json): Promise<Change> {
  const where = { index: AUDIT_MAPPED, expand_wildcards: 'open,hidden', allow_no_indices: true };
  // Only each field's type: a year of day indices' whole mappings is a lot to read at every start.
  const res = await store.indices.getMapping({
    ...where,
    filter_path: '*.mappings.properties.*.type',
  } as never);
  const missing: Json = {};
  for (const { mappings } of Object.values(res.body as Record<string, { mappings?: Json }>))
    for (const f of Object.keys(properties)) if (!mappings?.properties?.[f]) missing[f] = properties[f];
  const change = { kind: 'audit indices', name: AUDIT_MAPPED } as const;
  if (Object.keys(missing).length === 0) return { ...change, action: 'unchanged' };
  try {
    await store.indices.putMapping({ ...where, body: { properties: missing } } as never);
  } catch (err) {
    const error = (err as { meta?: { body?: { error?: { type?: string; reason?: string } } } }).meta?.body
      ?.error;
    if (error?.type !== 'cluster_block_exception') throw err;
    return {
      ...change,
      action: 'skipped',
      detail: `could not add ${Object.keys(missing).join(', ')}: ${error.reason}`,
    };
  }
  return { ...change, action: 'updated', detail: `added ${Object.keys(missing).join(', ')}` };
}

function sameTemplate(current: Json, desired: Json): boolean {
  // OpenSearch answers settings nested and as strings; compare both in that normal form.
  const norm = (t: Json) =>
    JSON.parse(
      JSON.stringify({
        patterns: t.index_patterns,
        priority: t.priority,
        settings: flattenSettings(t.template?.settings ?? {}),
        mappings: t.template?.mappings,
        meta: t._meta,
      }),
    );
  return isDeepStrictEqual(norm(current), norm(desired));
}

export function flattenSettings(s: Json, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(s)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === 'object' && !Array.isArray(v)) Object.assign(out, flattenSettings(v, key));
    else out[key.startsWith('index.') ? key : `index.${key}`] = String(v);
  }
  return out;
}

function samePolicy(current: Json, desired: Json): boolean {
  const pick = (p: Json) =>
    JSON.stringify({
      description: p.description,
      default_state: p.default_state,
      states: p.states.map((s: Json) => ({
        name: s.name,
        actions: s.actions.map((a: Json) => Object.keys(a).filter((k) => k !== 'retry')),
        transitions: s.transitions,
      })),
      patterns: p.ism_template?.map((t: Json) => t.index_patterns),
    });
  return pick(current) === pick(desired);
}
