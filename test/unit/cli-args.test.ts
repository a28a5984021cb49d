import { expect } from 'chai';
import { intFlag, parseArgs, stringFlag, UsageError } from '../../scripts/lib/cli.ts';

describe('script arguments (scripts/lib/cli.ts)', () => {
  it('separates positionals from flags in any order', () => {
    expect(parseArgs(['org:put', 'acme', '--name', 'Acme Inc.', '--plan', 'team'])).to.deep.equal({
      _: ['org:put', 'acme'],
      name: 'Acme Inc.',
      plan: 'team',
    });
  });

  it('takes --flag=value, including values that start with dashes or hold "="', () => {
    expect(parseArgs(['--since=2026-11-01', '--search=--x', '--q=a=b'])).to.deep.equal({
      _: [],
      since: '2026-11-01',
      search: '--x',
      q: 'a=b',
    });
  });

  it('keeps boolean flags from swallowing the next word', () => {
    expect(parseArgs(['--yes', 'next', '--json', '--dry-run', 'x'])).to.deep.equal({
      _: ['next', 'x'],
      yes: true,
      json: true,
      'dry-run': true,
    });
  });

  it('makes a value flag true when nothing or another flag follows', () => {
    expect(parseArgs(['--org', '--json'])).to.deep.equal({ _: [], org: true, json: true });
    expect(parseArgs(['--org'])).to.deep.equal({ _: [], org: true });
  });

  it('keeps "-" and negative numbers as positionals or values', () => {
    expect(parseArgs(['-', '-5'])).to.deep.equal({ _: ['-', '-5'] });
    expect(parseArgs(['--min', '-5'])).to.deep.equal({ _: [], min: '-5' });
  });

  it('accepts single-dash short flags', () => {
    expect(parseArgs(['-h'])).to.deep.equal({ _: [], h: true });
    expect(parseArgs(['-f', 'name'])).to.deep.equal({ _: ['name'], f: true });
  });

  it('stringFlag: a usage error naming the flag when it is required or has no value', () => {
    const args = parseArgs(['--org', '--json', '--out', 'f.csv', '--empty=']);
    expect(stringFlag(args, 'out', true)).to.equal('f.csv');
    expect(stringFlag(args, 'missing')).to.equal(undefined);
    expect(() => stringFlag(args, 'missing', true)).to.throw(UsageError, '--missing is required');
    expect(() => stringFlag(args, 'org')).to.throw(UsageError, '--org needs a value');
    expect(() => stringFlag(args, 'empty')).to.throw(UsageError, '--empty needs a value');
  });

  it('intFlag: defaults, "_" separators, and bounds named in the error', () => {
    expect(intFlag(parseArgs([]), 'days', { default: 7 })).to.equal(7);
    expect(intFlag(parseArgs(['--events', '1_000_000']), 'events')).to.equal(1_000_000);
    expect(() => intFlag(parseArgs([]), 'events')).to.throw(UsageError, '--events is required');
    expect(() => intFlag(parseArgs(['--events', '0']), 'events')).to.throw(
      UsageError,
      '--events must be an integer of at least 1 (got "0")',
    );
    expect(() => intFlag(parseArgs(['--limit', '1001']), 'limit', { max: 1000 })).to.throw(
      UsageError,
      '--limit must be an integer from 1 to 1000 (got "1001")',
    );
    expect(() => intFlag(parseArgs(['--days', '2.5']), 'days')).to.throw(UsageError, /got "2\.5"/);
  });
});
