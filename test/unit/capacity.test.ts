import { expect } from 'chai';
import { Capacity } from '../../src/http/concurrency.ts';

describe('admission capacity (http/concurrency.ts)', () => {
  it('never lets one key take the last place: another key still gets in', () => {
    const places = new Capacity(4);
    const a = [places.take('a'), places.take('a'), places.take('a')];
    expect(a.every(Boolean), 'a lone producer is not held to half').to.equal(true);
    expect(places.take('a'), 'the last place, for the same key').to.equal(undefined);
    const b = places.take('b');
    expect(b, 'another key finds the last place').to.be.a('function');
    expect(places.take('c'), 'all four taken').to.equal(undefined);
    a[0]!();
    a[0]!(); // a second release frees nothing more
    expect(places.inUse).to.equal(3);
    expect(places.take('a'), 'a beyond half would take the last place').to.equal(undefined);
    expect(places.take('b'), 'b within its half').to.be.a('function');
  });

  it('counts bytes with a reserve of one body; alone, a body larger than the budget is still read', () => {
    const bytes = new Capacity(1000, 300);
    expect(bytes.take('a', 400)).to.be.a('function');
    expect(bytes.take('a', 301), 'beyond half, into the reserve').to.equal(undefined);
    expect(bytes.take('a', 250), 'beyond half, with the reserve left').to.be.a('function');
    expect(bytes.take('b', 400), 'beyond the total').to.equal(undefined);
    expect(bytes.take('b', 300), 'the reserve, for another key').to.be.a('function');
    const small = new Capacity(10);
    expect(small.take('a', 5000), 'the first taker always fits').to.be.a('function');
  });

  it('lets a single place serve one key at a time', () => {
    const one = new Capacity(1);
    const release = one.take('a')!;
    expect(one.take('b')).to.equal(undefined);
    release();
    expect(one.take('b')).to.be.a('function');
  });
});
