/**
 * Tampering for real: each test ingests events through the write path, seals them, then changes OpenSearch
 * directly as an attacker with database access would, and checks that verification names what was done.
 */
import { expect } from 'chai';
import { checkpointOf, sealId, type Checkpoint } from '../../src/integrity/checkpoint.ts';
import type { Problem } from '../../src/integrity/chain.ts';
import { generateSigningKeyPem, signingKeyFromPem } from '../../src/integrity/signing.ts';
import { verifyOrg, type VerifyReport } from '../../src/integrity/verify.ts';
import { dayIndex, eventDocId, INTERNAL } from '../../src/store/names.ts';
import {
  ingestSample,
  integrityCtx,
  positionOf,
  readSeals,
  rebuildOrgTree,
  resealChain,
  rewriteDayIndex,
  sealAll,
  testKey,
  writeSeal,
} from '../fixtures/integrity.ts';

const LATE_GRACE_MS = 10 * 60_000;

describe('integrity: tampering is detected and named', function () {
  this.timeout(120_000);
  const ctx = integrityCtx();
  after(() => ctx.store.close());

  /**
   * 12 events of a fresh org on a fresh day (plus the directory's own event for creating the org), ingested
   * and sealed in three rounds, so there are at least three seals. Any sealer running on the engine may take
   * part, so positions are looked up, not assumed.
   */
  async function sealedSample() {
    const first = await ingestSample(ctx, 4);
    await sealAll(ctx, first.orgId);
    const ids = [...first.ids];
    for (let round = 0; round < 2; round++) {
      ids.push(...(await ingestSample(ctx, 4, first.day, first.orgId)).ids);
      await sealAll(ctx, first.orgId);
    }
    const seals = await readSeals(ctx.store, first.orgId);
    expect(seals.length).to.be.at.least(3);
    const at = (id: string) => positionOf(seals, id);
    return { orgId: first.orgId, ids, seals, at, index: dayIndex(`${first.day}T00:00:00Z`) };
  }

  const verify = (orgId: string, checkpoint?: Checkpoint): Promise<VerifyReport> =>
    verifyOrg(ctx.store, {
      orgId,
      publicKey: testKey,
      lateGraceMs: LATE_GRACE_MS,
      ...(checkpoint ? { checkpoint } : {}),
    });

  const kinds = (r: VerifyReport) => r.problems.map((p: Problem) => [p.kind, p.seq, p.eventId]);
  // A seal changed after the tree took it also disagrees with its tree heads; these tests name the seal findings.
  const sealKinds = (r: VerifyReport) => kinds(r).filter(([kind]) => !String(kind).startsWith('tree-'));

  it('verifies untouched data clean', async () => {
    const { orgId, seals } = await sealedSample();
    const r = await verify(orgId);
    expect(r.problems).to.deep.equal([]);
    expect(r.clean).to.equal(true);
    const n = seals.length;
    expect(r.seals).to.deep.include({ count: n, firstSeq: 1, lastSeq: n, checked: n });
    expect(r.events).to.deep.include({ sealedChecked: 13, scanned: 13, pending: 0 });
  });

  it('names the event whose description was changed in its day index, and that a public field changed', async () => {
    const { orgId, ids, index, at } = await sealedSample();
    const victim = ids[5]!;
    const { seq, leaf } = at(victim);
    await rewriteDayIndex(ctx.store, index, [orgId], (docs) =>
      docs.map((d) => (d.id === victim ? { ...d, description: 'nothing happened here' } : d)),
    );
    const r = await verify(orgId);
    expect(kinds(r)).to.deep.equal([['event-modified', seq, victim]]);
    expect(r.problems[0]!.message).to.contain(`event ${victim} (seal ${seq} leaf ${leaf}) was modified`);
    expect(r.problems[0]!.message).to.contain('public fields');
    expect(r.problems[0]!.message).not.to.contain('stored-only');
  });

  it('notices a change to a field no read returns (the IP address)', async () => {
    const { orgId, ids, index, at } = await sealedSample();
    await rewriteDayIndex(ctx.store, index, [orgId], (docs) =>
      docs.map((d) => (d.id === ids[0] ? { ...d, ipAddress: '198.51.100.7' } : d)),
    );
    const r = await verify(orgId);
    expect(kinds(r)).to.deep.equal([['event-modified', at(ids[0]!).seq, ids[0]]]);
    expect(r.problems[0]!.message).to.contain('stored-only fields');
    expect(r.problems[0]!.message).not.to.contain('public fields');
  });

  it('names a back-dated createdAt', async () => {
    const { orgId, ids, index, at } = await sealedSample();
    await rewriteDayIndex(ctx.store, index, [orgId], (docs) =>
      docs.map((d) =>
        d.id === ids[9] ? { ...d, createdAt: `${String(d.createdAt).slice(0, 10)}T00:00:00.000Z` } : d,
      ),
    );
    const r = await verify(orgId);
    expect(kinds(r)).to.deep.equal([['event-modified', at(ids[9]!).seq, ids[9]]]);
    expect(r.problems[0]!.message).to.match(/createdAt is .* the ledger recorded/);
  });

  it('names a deleted event', async () => {
    const { orgId, ids, index, at } = await sealedSample();
    await rewriteDayIndex(ctx.store, index, [orgId], (docs) => docs.filter((d) => d.id !== ids[3]));
    const r = await verify(orgId);
    expect(kinds(r)).to.deep.equal([['event-missing', at(ids[3]!).seq, ids[3]]]);
    expect(r.problems[0]!.message).to.contain(`missing from ${index}`);
  });

  it('names an event inserted (back-dated) into a day index without going through the service', async () => {
    const { orgId, ids, index } = await sealedSample();
    const real = (await ctx.store.get({ index, id: eventDocId(orgId, ids[0]!) })).body._source as Record<
      string,
      unknown
    >;
    const inserted = {
      ...real,
      id: 'evt_backdated',
      createdAt: String(real.createdAt).replace('T00:', 'T23:'),
      description: 'approved',
    };
    // `create` is allowed on a write-once index: no rewrite needed to add a document.
    await ctx.store.create({ index, id: eventDocId(orgId, 'evt_backdated'), body: inserted, refresh: true });
    const r = await verify(orgId);
    expect(kinds(r)).to.deep.equal([['event-not-in-ledger', undefined, 'evt_backdated']]);
    expect(r.problems[0]!.message).to.contain(`event evt_backdated in ${index}`);
  });

  it('names a back-dated insertion that also forged its ledger entry', async () => {
    const { orgId, index } = await sealedSample();
    const acceptedAt = new Date(Date.now() - 3600_000).toISOString();
    const createdAt = new Date(Date.parse(index.slice(11).replaceAll('.', '-') + 'T12:00:00Z')).toISOString();
    await ctx.store.index({
      index: INTERNAL.ledger,
      id: `${orgId}:evt_forged`,
      refresh: true,
      body: { orgId, eventId: 'evt_forged', index, createdAt, acceptedAt, sealed: false },
    });
    await ctx.store.create({
      index,
      id: 'evt_forged',
      refresh: true,
      body: {
        id: 'evt_forged',
        orgId,
        action: 'member.removed',
        resourceType: 'member',
        description: 'x',
        metadata: {},
        createdAt,
        acceptedAt,
      },
    });
    const r = await verify(orgId);
    expect(kinds(r)).to.deep.equal([['unsealed-late', undefined, 'evt_forged']]);
    expect(r.problems[0]!.message).to.contain('inserted or back-dated');
  });

  it('names a sealed event whose ledger entry was deleted, and still checks the event itself', async () => {
    const { orgId, ids, at } = await sealedSample();
    await ctx.store.delete({ index: INTERNAL.ledger, id: eventDocId(orgId, ids[7]!), refresh: true });
    const r = await verify(orgId);
    expect(kinds(r)).to.deep.equal([
      ['ledger-missing', at(ids[7]!).seq, ids[7]],
      ['event-not-in-ledger', undefined, ids[7]],
    ]);
  });

  it('names a dropped seal, and each event it held', async () => {
    const { orgId, seals } = await sealedSample();
    await ctx.store.delete({
      index: INTERNAL.seals,
      id: sealId(orgId, 2),
      refresh: true,
    });
    const r = await verify(orgId);
    const k = sealKinds(r);
    expect(k[0]).to.deep.equal(['seal-missing', 2, undefined]);
    expect(r.problems[0]!.message).to.equal('seal 2 is missing from the chain (dropped)');
    // Its events are now in no seal, though the events accepted after them are.
    expect(k.slice(1)).to.deep.equal(seals[1]!.eventIds.map((id) => ['unsealed-late', undefined, id]));
    expect(r.problems[1]!.message).to.contain('a seal was dropped');
  });

  it('names reordered seals', async () => {
    const { orgId } = await sealedSample();
    const [, s2, s3] = await readSeals(ctx.store, orgId);
    await writeSeal(ctx.store, { ...s3!, seq: 2 });
    await writeSeal(ctx.store, { ...s2!, seq: 3 });
    const r = await verify(orgId);
    const k = kinds(r);
    expect(k).to.deep.include(['seal-edited', 2, undefined]);
    expect(k).to.deep.include(['seal-chain-broken', 2, undefined]);
    expect(k).to.deep.include(['seal-edited', 3, undefined]);
    expect(r.clean).to.equal(false);
  });

  it('names a seal rewritten to hide an edited event (no key: the signature breaks)', async () => {
    const { orgId, ids, index, seals } = await sealedSample();
    await rewriteDayIndex(ctx.store, index, [orgId], (docs) =>
      docs.map((d) => (d.id === ids[4] ? { ...d, actorEmail: 'someone-else@example.com' } : d)),
    );
    // Re-seal with a throw-away key, then put the published key id back on the edited seals.
    await resealChain(ctx.store, orgId, signingKeyFromPem(generateSigningKeyPem()));
    for (const s of await readSeals(ctx.store, orgId))
      await writeSeal(ctx.store, { ...s, keyId: testKey.keyId });
    const r = await verify(orgId);
    expect(sealKinds(r)).to.deep.equal(seals.map((s) => ['seal-bad-signature', s.seq, undefined]));
  });

  it('names every seal re-signed with another key', async () => {
    const { orgId, ids, index, seals } = await sealedSample();
    await rewriteDayIndex(ctx.store, index, [orgId], (docs) =>
      docs.map((d) => (d.id === ids[4] ? { ...d, description: 'edited' } : d)),
    );
    const other = signingKeyFromPem(generateSigningKeyPem());
    await resealChain(ctx.store, orgId, other);
    const r = await verify(orgId);
    expect(sealKinds(r)).to.deep.equal(seals.map((s) => ['seal-foreign-key', s.seq, undefined]));
    expect(r.problems[0]!.message).to.contain(
      `signed with key ${other.keyId}, not one of the log's keys ${testKey.keyId}`,
    );
  });

  it('catches a rewrite with the stolen signing key only against a checkpoint saved earlier', async () => {
    const { orgId, ids, index, seals, at } = await sealedSample();
    const saved = checkpointOf(seals[seals.length - 1]!); // what a SIEM kept
    await rewriteDayIndex(ctx.store, index, [orgId], (docs) =>
      docs.map((d) => (d.id === ids[1] ? { ...d, description: 'edited' } : d)),
    );
    await resealChain(ctx.store, orgId, testKey);
    // The org tree still holds the sealed leaves: every head from the edited seal on disagrees.
    const first = seals.find((s) => s.eventIds.includes(ids[1]!))!.seq;
    expect(kinds(await verify(orgId))).to.deep.equal(
      seals.filter((s) => s.seq >= first).map((s) => ['tree-head-mismatch', s.seq, undefined]),
    );
    // Rebuilt and re-signed too, the attacker's history is self-consistent: only what was kept outside
    // (a checkpoint here; a witness or a monitor in attacker.test.ts) shows it.
    await rebuildOrgTree(ctx, orgId);
    expect((await verify(orgId)).problems).to.deep.equal([]);
    const r = await verify(orgId, saved);
    expect(at(ids[1]!).seq).to.be.at.most(saved.seq);
    expect(kinds(r)).to.deep.equal([['checkpoint-mismatch', saved.seq, undefined]]);
    expect(r.problems[0]!.message).to.contain(`history rewritten: seal ${saved.seq}`);
  });

  it('names a truncated chain against a checkpoint, and rejects a checkpoint signed by another key', async () => {
    const { orgId, seals } = await sealedSample();
    const saved = checkpointOf(seals[seals.length - 1]!);
    await ctx.store.delete({ index: INTERNAL.seals, id: sealId(orgId, saved.seq), refresh: true });
    const r = await verify(orgId, saved);
    expect(kinds(r)).to.deep.include(['chain-truncated', saved.seq, undefined]);
    const forged = { ...saved, signature: Buffer.alloc(64).toString('base64') };
    const r2 = await verify(orgId, forged);
    expect(kinds(r2)).to.deep.include(['checkpoint-bad-signature', saved.seq, undefined]);
  });
});
