import { expect } from 'chai';
import { Capacity } from '../../src/http/concurrency.ts';

describe('admission capacity (http/concurrency.ts)', () => {
  it('gives one key at most half of the places, so another key still gets in', () => {
    const places = new Capacity(4);
    const a = [places.take('a'), places.take('a')];
    expect(a.every(Boolean)).to.equal(true);
    expect(places.take('a'), 'a third place for the same key').to.equal(undefined);
    const b = [places.take('b'), places.take('b')];
    expect(b.every(Boolean)).to.equal(true);
    expect(places.take('c'), 'all four taken').to.equal(undefined);
    a[0]!();
    a[0]!(); // a second release frees nothing more
    expect(places.inUse).to.equal(3);
    expect(places.take('c')).to.be.a('function');
    expect(places.take('a'), 'full again').to.equal(undefined);
  });

  it('counts bytes too, and always admits the first taker whatever its size', () => {
    const bytes = new Capacity(1000);
    expect(bytes.take('a', 400)).to.be.a('function');
    expect(bytes.take('a', 200), "beyond a's half").to.equal(undefined);
    expect(bytes.take('b', 500)).to.be.a('function');
    expect(bytes.take('c', 200), 'beyond the total').to.equal(undefined);
    const huge = new Capacity(10);
    expect(huge.take('a', 5000), 'alone, a body larger than the budget is still read').to.be.a('function');
  });

  it('lets a single place serve one key at a time', () => {
    const one = new Capacity(1);
    const release = one.take('a')!;
    expect(one.take('b')).to.equal(undefined);
    release();
    expect(one.take('b')).to.be.a('function');
  });
});
