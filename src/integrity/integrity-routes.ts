/**
 * Integrity API, same authentication and scope as reads (`readScope`):
 * - `GET /api/v1/audit-logs/integrity/public-key` — the Ed25519 key that signs now, and every key ever used with its window;
 * - `GET /api/v1/audit-logs/integrity/checkpoints?cursor&limit` — the caller's org's signed checkpoints by seq,
 *   paged with a signed cursor bound to the org;
 * - `GET /api/v1/audit-logs/:id/proof` — what proves one entry offline: the entry, its storedHash and leaf,
 *   the audit path and the signed checkpoint of its seal; `{ status: "pending" }` until it is sealed.
 * Checkpoints hold only hashes, counts and times, no event content, so a workspace-scoped key sees the whole
 * org's chain (it needs it to check its proofs); proofs are given only for entries the key may read.
 */
import { Type } from '@sinclair/typebox';
import { Router } from 'express';
import type { HttpContext } from '../http/http-context.ts';
import { readScope } from '../directory/access.ts';
import { ID_PATTERN, toEntry } from '../events/schema.ts';
import { authenticator, principalOf } from '../http/auth.ts';
import { errors } from '../http/api-errors.ts';
import { noQuery, queryParser } from '../query-string.ts';
import { eventInScope } from '../query/search.ts';
import { checkpointsAfter } from '../store/seal-store.ts';
import { cursorSecret, fingerprintOf, signToken, verifyToken } from '../tokens.ts';
import {
  getTreeHead,
  getTreeHeads,
  newestTreeHead,
  treeHeadOfSize,
  type TreeHead,
} from '../store/tile-store.ts';
import { checkpointOf } from './checkpoint.ts';
import { leafOfEvent } from './event-hash.ts';
import { canonical } from './leaf.ts';
import { auditPath } from './merkle.ts';
import { KeyringSource } from './keyring.ts';
import { logVerifierKey, proveConsistency, proveInclusion, servedNote } from './org-tree.ts';
import { getSealHead, locateEntry } from './seals.ts';
import { witnessedHead } from './witnessing.ts';

const MAX_LIMIT = 1000;
const DEFAULT_LIMIT = 100;

export const CheckpointQuery = Type.Object(
  {
    cursor: Type.Optional(Type.String()),
    limit: Type.Integer({ minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT }),
  },
  { additionalProperties: false },
);

const parseCheckpointQuery = queryParser(CheckpointQuery, {
  hints: { limit: (given) => `limit must be an integer from 1 to ${MAX_LIMIT} (got "${given}").` },
});

const TreeSize = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });
export const SignedCheckpointQuery = Type.Object(
  { size: Type.Optional(TreeSize) },
  { additionalProperties: false },
);
export const ConsistencyQuery = Type.Object(
  { from: TreeSize, to: TreeSize },
  { additionalProperties: false },
);
const sizeHint = (name: string) => (given: string) =>
  `${name} must be a tree size, a whole number from 1 (got "${given}").`;
const parseSignedCheckpointQuery = queryParser(SignedCheckpointQuery, { hints: { size: sizeHint('size') } });
const parseConsistencyQuery = queryParser(ConsistencyQuery, {
  hints: { from: sizeHint('from'), to: sizeHint('to') },
});

export const ProofQuery = Type.Object(
  { format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('tlog-proof')])) },
  { additionalProperties: false },
);
const parseProofQuery = queryParser(ProofQuery, {
  hints: { format: (given) => `format must be "json" or "tlog-proof" (got "${given}").` },
});

/**
 * A c2sp.org/tlog-proof@v1: the entry and its storedHash (what recomputes the leaf) as the `extra` line,
 * base64 of their canonical JSON, then the index, the inclusion path and the checkpoint note.
 */
function tlogProof(extra: unknown, tree: { index: number; inclusion: string[]; checkpoint: string }): string {
  const lines = [
    'c2sp.org/tlog-proof@v1',
    `extra ${Buffer.from(canonical(extra)).toString('base64')}`,
    `index ${tree.index}`,
    ...tree.inclusion,
  ];
  return `${lines.join('\n')}\n\n${tree.checkpoint}`;
}

/**
 * A checkpoint cursor is the last seq of the previous page (seqs have no gaps, so nothing is skipped or
 * repeated), signed with its own version prefix and bound to the org.
 */
const CURSOR_VERSION = 'cp1';
const cursorFingerprint = (orgId: string) => fingerprintOf({ checkpoints: true, orgId });
const EVENT_ID = new RegExp(ID_PATTERN);
const isSeq = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 1;

export function integrityRouter(ctx: HttpContext): Router {
  const auth = authenticator(ctx)('api-key');
  const keys = new KeyringSource(ctx.cfg);
  const noteOf = (head: TreeHead) => servedNote(head, keys, ctx.cfg.logOrigin);
  const secret = cursorSecret(ctx.cfg);
  const router = Router();

  router.get('/integrity/public-key', auth, async (req, res) => {
    noQuery(req.query as Record<string, unknown>);
    const { orgId } = await readScope(ctx, principalOf(res));
    const ring = keys.get();
    // The key that signs seals now (the newest valid one), then every key ever used with its window.
    const key = ring.signers(new Date().toISOString())[0]!;
    res.json({
      algorithm: 'Ed25519',
      keyId: key.keyId,
      publicKeyPem: key.publicKeyPem,
      verifierKey: logVerifierKey(key, ctx.cfg.logOrigin, orgId),
      keys: ring.keys.map((k) => ({
        keyId: k.keyId,
        publicKeyPem: k.publicKeyPem,
        verifierKey: logVerifierKey(k, ctx.cfg.logOrigin, orgId),
        validFrom: k.validFrom,
        validUntil: k.validUntil,
      })),
    });
  });

  router.get('/integrity/checkpoint', auth, async (req, res) => {
    const { size } = parseSignedCheckpointQuery(req.query as Record<string, unknown>);
    const { orgId } = await readScope(ctx, principalOf(res));
    const head =
      size === undefined
        ? await witnessedHead(ctx.store, orgId, ctx.cfg.witnesses, ctx.cfg.witnessQuorum)
        : await treeHeadOfSize(ctx.store, orgId, size);
    if (!head)
      throw size === undefined
        ? errors.notFound('A checkpoint of this org (nothing is sealed yet)')
        : errors.notFound(`A checkpoint of size ${size}`);
    res.type('text/plain; charset=utf-8').send(noteOf(head));
  });

  router.get('/integrity/consistency', auth, async (req, res) => {
    const { from, to } = parseConsistencyQuery(req.query as Record<string, unknown>);
    const { orgId } = await readScope(ctx, principalOf(res));
    const newest = (await newestTreeHead(ctx.store, orgId))?.size ?? 0;
    if (to > newest)
      throw errors.invalidParam(
        'to',
        `to must be at most the newest signed tree size, ${newest} (got ${to}).`,
      );
    if (from > to) throw errors.invalidParam('from', `from must be at most to, ${to} (got ${from}).`);
    const proof = await proveConsistency(ctx.store, orgId, from, to);
    res.json({ from, to, proof: proof.map((h) => h.toString('base64')) });
  });

  router.get('/integrity/checkpoints', auth, async (req, res) => {
    const { limit, cursor } = parseCheckpointQuery(req.query as Record<string, unknown>);
    const { orgId } = await readScope(ctx, principalOf(res));
    const fp = cursorFingerprint(orgId);
    const after = cursor === undefined ? 0 : verifyToken(secret, CURSOR_VERSION, cursor, fp, isSeq);
    const page = await checkpointsAfter(ctx.store, orgId, after, limit + 1);
    // On the last page, seals created in the last refresh interval are not searchable yet: a realtime GET
    // of the following seqs adds them, so a checkpoint a proof just returned is also listed here.
    while (page.length <= limit) {
      const next = await getSealHead(ctx.store, orgId, (page[page.length - 1]?.seq ?? after) + 1);
      if (!next) break;
      page.push(next);
    }
    const sealed = page.slice(0, limit);
    const heads = await getTreeHeads(
      ctx.store,
      orgId,
      sealed.map((c) => c.seq),
    );
    // A seal the tree has not taken yet (it follows within a round) has no size or note so far.
    const data = sealed.map((c, k) => {
      const head = heads[k];
      return { ...checkpointOf(c), ...(head ? { size: head.size, note: noteOf(head) } : {}) };
    });
    const more = page.length > limit;
    res.json({
      data,
      ...(more ? { nextCursor: signToken(secret, CURSOR_VERSION, data[limit - 1]!.seq, fp) } : {}),
    });
  });

  router.get('/:id/proof', auth, async (req, res) => {
    const { format } = parseProofQuery(req.query as Record<string, unknown>);
    const id = String(req.params.id);
    if (!EVENT_ID.test(id)) {
      throw errors.invalidParam('id', 'id must be an event id: 1 to 128 of A-Z a-z 0-9 _ . : -');
    }
    const scope = await readScope(ctx, principalOf(res));
    // The checkpoint to prove against needs only the org: asked for at once, beside finding the entry.
    const served = witnessedHead(ctx.store, scope.orgId, ctx.cfg.witnesses, ctx.cfg.witnessQuorum);
    served.catch(() => undefined); // awaited below; an answer that ends earlier must not leave it unhandled
    const notFound = () => errors.notFound(`Audit log entry "${id}"`);
    const found = await eventInScope(ctx.store, id, scope);
    if (!found) throw notFound();
    const { entry, event } = found;
    const where = await locateEntry(ctx.store, entry);
    const notSealed = () =>
      errors.notFound(
        `A tlog-proof of entry "${id}" (it is not sealed into the org tree yet; try again shortly)`,
      );
    if (where === 'pending') {
      if (format === 'tlog-proof') throw notSealed();
      res.json({ status: 'pending', id });
      return;
    }
    if (where === 'missing') {
      throw errors.integrityBroken(
        `Entry "${id}" should be in a seal (later entries are sealed), but no seal lists it where the ledger says.`,
      );
    }
    const { seal, leaf: leafIndex } = where;
    const orgId = scope.orgId;
    // The entry and storedHash as stored now; the leaf and path as sealed. A changed entry fails its check.
    const { storedHash } = leafOfEvent(event);
    const tree = await inOrgTree(orgId, seal.seq, seal.count, leafIndex, served);
    if (format === 'tlog-proof') {
      if (tree.index === undefined) throw notSealed();
      res.type('text/plain; charset=utf-8').send(tlogProof({ entry: toEntry(event), storedHash }, tree));
      return;
    }
    res.json({
      status: 'sealed',
      entry: toEntry(event),
      storedHash,
      leaf: seal.leaves[leafIndex],
      ...tree,
      // The proof within the seal's own batch: kept while clients move to the org tree (docs/api.md).
      leafIndex,
      treeSize: seal.count,
      auditPath: auditPath(seal.leaves, leafIndex),
      sealCheckpoint: checkpointOf(seal),
    });
  });

  /**
   * Where a sealed leaf sits in the org's tree, proved against the checkpoint GET /integrity/checkpoint serves
   * (the newest with the witness quorum), or the newest when that one does not hold the leaf yet.
   */
  async function inOrgTree(
    orgId: string,
    seq: number,
    count: number,
    leaf: number,
    servedHead: Promise<TreeHead | undefined>,
  ) {
    const [ofSeal, served] = await Promise.all([getTreeHead(ctx.store, orgId, seq), servedHead]);
    if (!ofSeal || !served) return {}; // the tree takes the seal within a sealer round
    const index = ofSeal.size - count + leaf;
    const newest = index < served.size ? served : await newestTreeHead(ctx.store, orgId);
    if (!newest) return {};
    const inclusion = await proveInclusion(ctx.store, orgId, index, newest.size);
    return {
      index,
      size: newest.size,
      inclusion: inclusion.map((h) => h.toString('base64')),
      checkpoint: noteOf(newest),
    };
  }

  return router;
}
