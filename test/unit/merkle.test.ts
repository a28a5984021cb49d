import { expect } from 'chai';
import crypto from 'node:crypto';
import { InvariantViolation } from '../../src/errors.ts';
import { auditPath, merkleRoot, rootFromAuditPath, verifyInclusion } from '../../src/integrity/merkle.ts';
import { CANONICAL_KEYS, hexOf, leafAndJsonOf, leafOfEvent } from '../../src/integrity/event-hash.ts';
import { canonical, leafHashOf, newSalt, sha256, storedHashOf } from '../../src/integrity/leaf.ts';
import { toEntry, type StoredEvent } from '../../src/events/schema.ts';
import { checkEvent } from '../../src/ingest/validate.ts';

const h = (s: string) => sha256(s).toString('hex');
const node = (l: string, r: string) =>
  sha256(Buffer.from([1]), Buffer.from(l, 'hex'), Buffer.from(r, 'hex')).toString('hex');
const leaves = (n: number) => Array.from({ length: n }, (_, i) => h(`leaf ${i}`));

describe('integrity: Merkle tree (RFC 6962 shape)', () => {
  it('has the leaf itself as the root of a one-leaf tree, and pairs leaves with a 0x01 prefix', () => {
    const [a, b, c] = leaves(3) as [string, string, string];
    expect(merkleRoot([a])).to.equal(a);
    expect(merkleRoot([a, b])).to.equal(node(a, b));
    // Three leaves split 2 + 1: the odd leaf is promoted, not duplicated (no CVE-2012-2459 style collision).
    expect(merkleRoot([a, b, c])).to.equal(node(node(a, b), c));
    expect(merkleRoot([a, b, c])).not.to.equal(merkleRoot([a, b, c, c]));
  });

  it('gives the root RFC 6962 defines (split at the largest power of two below n) for every size to 70', () => {
    const mth = (d: string[]): string => {
      if (d.length === 1) return d[0]!;
      let k = 1;
      while (k * 2 < d.length) k *= 2;
      return node(mth(d.slice(0, k)), mth(d.slice(k)));
    };
    for (let n = 1; n <= 70; n++) expect(merkleRoot(leaves(n)), `n=${n}`).to.equal(mth(leaves(n)));
    expect(() => merkleRoot(['ab'])).to.throw(/not 64 hex/);
  });

  it('proves every leaf of trees of every size from 1 to 33, and nothing else', () => {
    for (let n = 1; n <= 33; n++) {
      const ls = leaves(n);
      const root = merkleRoot(ls);
      for (let i = 0; i < n; i++) {
        const path = auditPath(ls, i);
        expect(path.length).to.be.at.most(Math.ceil(Math.log2(n)));
        expect(verifyInclusion(ls[i]!, i, n, path, root), `n=${n} i=${i}`).to.equal(true);
        // Another leaf or another position does not verify with the same path.
        expect(verifyInclusion(h('other'), i, n, path, root)).to.equal(false);
        if (n > 1) expect(verifyInclusion(ls[i]!, (i + 1) % n, n, path, root)).to.equal(false);
      }
    }
  });

  it('rejects a path with an extra or a missing hash and an index outside the tree', () => {
    const ls = leaves(7);
    const root = merkleRoot(ls);
    const path = auditPath(ls, 4);
    expect(verifyInclusion(ls[4]!, 4, 7, [...path, h('x')], root)).to.equal(false);
    expect(verifyInclusion(ls[4]!, 4, 7, path.slice(1), root)).to.equal(false);
    expect(rootFromAuditPath(ls[4]!, 7, 7, path)).to.equal(undefined);
    expect(() => merkleRoot([])).to.throw();
  });

  it('changes the root when one leaf changes or two leaves swap', () => {
    const ls = leaves(10);
    const root = merkleRoot(ls);
    const changed = [...ls];
    changed[6] = h('tampered');
    expect(merkleRoot(changed)).not.to.equal(root);
    const swapped = [...ls];
    [swapped[2], swapped[3]] = [swapped[3]!, swapped[2]!];
    expect(merkleRoot(swapped)).not.to.equal(root);
  });
});

describe('integrity: leaves', () => {
  const event: StoredEvent = {
    id: 'evt_1',
    action: 'workflow.created',
    resourceType: 'workflow',
    resourceId: 'wf_1',
    resourceName: 'Onboarding',
    description: 'Ana created workflow "Onboarding"',
    actorId: 'usr_1',
    actorName: 'Ana',
    actorEmail: 'ana@example.com',
    workspaceId: 'ws_1',
    metadata: { z: 1, a: { b: 'é' } },
    createdAt: '2026-01-02T03:04:05.678Z',
    orgId: 'org_1',
    acceptedAt: '2026-01-02T03:04:06.000Z',
    ipAddress: '203.0.113.9',
    userAgent: 'curl/8',
  };

  it('canonicalizes JSON per RFC 8785 (sorted keys, no whitespace)', () => {
    expect(canonical({ b: [1, 'x'], a: { d: null, c: 1e21 } })).to.equal(
      '{"a":{"c":1e+21,"d":null},"b":[1,"x"]}',
    );
  });

  it('lets a holder of the API entry and storedHash recompute the leaf', () => {
    const { leaf, storedHash } = leafOfEvent(event);
    const fromApi = JSON.parse(JSON.stringify(toEntry(event)));
    expect(leafHashOf(fromApi, storedHash)).to.equal(leaf);
    // The formula, spelled out as a SIEM would implement it.
    const expected = crypto
      .createHash('sha256')
      .update(Buffer.from([0]))
      .update(canonical(fromApi))
      .update(Buffer.from(storedHash, 'hex'))
      .digest('hex');
    expect(leaf).to.equal(expected);
  });

  it('computes at ingest exactly the leaf the generic RFC 8785 form gives, for awkward values too', () => {
    const odd: StoredEvent[] = [
      event,
      {
        ...event,
        resourceId: null,
        resourceName: null,
        actorId: null,
        actorName: null,
        actorEmail: null,
        workspaceId: null,
        ipAddress: null,
        userAgent: null,
        metadata: {},
      },
      {
        ...event,
        description: 'quotes " and \\ and \n\t\u0001, é, 中文, 😀, \u2028',
        resourceName: '</script>',
        metadata: { b: [1e21, -0, 0.1, 1e-7, null, true, 'x'], a: { é: 1, e: 2, '😀': { z: [] } }, '': 0 },
        createdAt: '2026-01-02T03:04:05Z', // normalised to milliseconds by both
        userAgent: 'Mozilla/5.0 (X11; "quoted")',
      },
      // Longer than any buffer kept between calls, then short again, then the first event once more.
      { ...event, description: '😀é'.repeat(20_000), metadata: { long: 'x'.repeat(40_000) } },
      { ...event, acceptedAt: '2026-01-02T03:04:05.000Z', ipAddress: '203.0.113.10' },
      // Keys JavaScript enumerates first (array indices), and unsorted keys below sorted ones.
      { ...event, metadata: { '10': 1, '2': 2, a: { '1': true, '0x': 0 }, '01': [{ '7': 7 }] } },
      { ...event, metadata: { a: { z: 1, b: [{ y: 2, x: 1 }] }, b: 1, c: { d: [] } } },
      { ...event, metadata: { z: [1, { b: 1, a: 2 }], '4294967296': 1, '4294967294': 2 } },
      { ...event, salt: newSalt() },
      { ...event, ipAddress: null, userAgent: null, salt: 'a "salt" \\ é written by hand' },
      event,
    ];
    // Each also with its keys in CANONICAL_KEYS order, as validation makes events (serialized as they are).
    const inKeyOrder = (doc: StoredEvent) =>
      Object.fromEntries(CANONICAL_KEYS.map((k) => [k, doc[k]])) as unknown as StoredEvent;
    const inOrder = odd.map(inKeyOrder);
    // … and in that order with a value JSON.stringify would leave out, or a time not as toISOString writes it.
    inOrder.push(
      inKeyOrder({ ...event, resourceName: undefined as never }),
      inKeyOrder({ ...event, ipAddress: undefined as never }),
      inKeyOrder({ ...event, metadata: undefined as never }),
      inKeyOrder({ ...event, createdAt: '2026-01-02T03:04:05Z', acceptedAt: '2026-01-02T03:04:06+00:00' }),
    );
    for (const doc of [...odd, ...inOrder]) {
      const storedHash = storedHashOf(doc);
      expect(leafOfEvent(doc)).to.deep.equal({ leaf: leafHashOf(toEntry(doc), storedHash), storedHash });
      // The JSON the write path stores holds what JSON.stringify would (times as validation writes them).
      const { json, leaf, storedHash: stored } = leafAndJsonOf(doc);
      expect({ leaf: hexOf(leaf), storedHash: hexOf(stored) }).to.deep.equal(leafOfEvent(doc));
      const validated = {
        ...doc,
        resourceName: doc.resourceName ?? null,
        ipAddress: doc.ipAddress ?? null,
        metadata: doc.metadata ?? {},
        createdAt: new Date(doc.createdAt).toISOString(),
        acceptedAt: new Date(doc.acceptedAt).toISOString(),
      };
      expect(JSON.parse(json)).to.deep.equal(JSON.parse(JSON.stringify(validated)));
    }
  });

  it('gets events from validation with their keys in the canonical order, and a slot for the salt', () => {
    const checked = checkEvent(
      { action: 'user.login', resourceType: 'user', metadata: { b: 1, a: 2 } },
      { boundOrgId: 'org_1', now: new Date(), sealAfterDays: 7 },
    );
    if (!checked.ok) throw new Error(checked.error);
    expect(Object.keys(checked.doc)).to.deep.equal(CANONICAL_KEYS);
    const doc = { ...checked.doc, salt: newSalt() };
    expect(Object.keys(doc)).to.deep.equal(CANONICAL_KEYS);
    const { leaf, storedHash } = leafAndJsonOf(doc);
    const generic = leafHashOf(toEntry(doc), storedHashOf(doc));
    expect([hexOf(leaf), hexOf(storedHash)]).to.deep.equal([generic, storedHashOf(doc)]);
  });

  it('covers every stored field, including those no read returns', () => {
    const base = leafOfEvent(event).leaf;
    const variants: Partial<StoredEvent>[] = [
      { description: 'changed' },
      { metadata: { z: 2, a: { b: 'é' } } },
      { createdAt: '2026-01-02T03:04:05.679Z' },
      { actorEmail: null },
      { orgId: 'org_2' },
      { ipAddress: '203.0.113.10' },
      { userAgent: null },
      { acceptedAt: '2026-01-02T03:04:06.001Z' },
      { salt: 'AAAAAAAAAAAAAAAAAAAAAA' },
    ];
    for (const v of variants)
      expect(leafOfEvent({ ...event, ...v }).leaf, JSON.stringify(v)).not.to.equal(base);
    expect(storedHashOf({ ...event, ipAddress: '203.0.113.10' })).not.to.equal(storedHashOf(event));
  });

  it('commits a salted event with its salt, and an event stored before salts by the formula without one', () => {
    const hex = (v: object) => crypto.createHash('sha256').update(canonical(v)).digest('hex');
    const { orgId, ipAddress, userAgent, acceptedAt } = event;
    // Leaves sealed before salts existed keep verifying: their storedHash has no salt key at all.
    expect(storedHashOf(event)).to.equal(hex({ orgId, ipAddress, userAgent, acceptedAt }));
    const salted = { ...event, salt: newSalt() };
    expect(storedHashOf(salted)).to.equal(
      hex({ orgId, ipAddress, userAgent, acceptedAt, salt: salted.salt }),
    );
    expect(leafOfEvent(salted).storedHash).to.equal(storedHashOf(salted));
  });

  it('draws each salt afresh: 16 random bytes, base64url', () => {
    const salts = Array.from({ length: 1000 }, () => newSalt());
    for (const salt of salts) expect(Buffer.from(salt, 'base64url')).to.have.length(16);
    expect(salts[0]).to.match(/^[A-Za-z0-9_-]{22}$/);
    expect(new Set(salts).size).to.equal(salts.length);
  });
});

describe('invariants of the Merkle code', () => {
  it('a proof for a leaf that is not in the tree is an InvariantViolation, named as before', () => {
    const leaves = [sha256('a').toString('hex'), sha256('b').toString('hex')];
    expect(() => auditPath(leaves, 2)).to.throw(InvariantViolation, 'leaf index 2 out of range');
    expect(() => merkleRoot([])).to.throw(
      InvariantViolation,
      'a Merkle tree needs at least one 32-byte leaf',
    );
  });
});
