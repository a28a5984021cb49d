import { expect } from 'chai';
import { intFlag, nearestName, parseCliArgs, stringFlag, UsageError } from '../../scripts/lib/cli.ts';

const RETENTION = {
  options: {
    days: { type: 'string' },
    pattern: { type: 'string' },
    'dry-run': { type: 'boolean' },
    yes: { type: 'boolean' },
  },
} as const;
const ADMIN = {
  options: { name: { type: 'string' }, plan: { type: 'string' }, json: { type: 'boolean' } },
  positionals: true,
} as const;

const parse = (argv: string[], spec: Parameters<typeof parseCliArgs>[1] = RETENTION) =>
  parseCliArgs(argv, spec).args;
const refusal = (argv: string[], spec: Parameters<typeof parseCliArgs>[1] = RETENTION) => {
  try {
    parse(argv, spec);
  } catch (err) {
    expect(err).to.be.instanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error(`${argv.join(' ')} was accepted`);
};

describe('script arguments (scripts/lib/cli.ts)', () => {
  it('separates positionals from flags in any order', () => {
    expect(parse(['org:put', 'acme', '--name', 'Acme Inc.', '--plan', 'team'], ADMIN)).to.deep.equal({
      _: ['org:put', 'acme'],
      name: 'Acme Inc.',
      plan: 'team',
    });
  });

  it('takes --flag=value, including values that start with dashes or hold "="', () => {
    expect(parse(['--days=-5', '--pattern=a=b'])).to.deep.equal({ _: [], days: '-5', pattern: 'a=b' });
  });

  it('keeps boolean flags from swallowing the next word', () => {
    expect(parse(['--json', 'org:show', 'acme'], ADMIN)).to.deep.equal({
      _: ['org:show', 'acme'],
      json: true,
    });
  });

  it('refuses an unknown option, naming it, the nearest known option and all of them', () => {
    const msg = refusal(['--days', '5', '--patern', 'audit-logs-2026.11.28', '--dry-run']);
    expect(msg).to.contain('unknown option --patern (did you mean --pattern?)');
    expect(msg).to.contain('options: --days, --pattern, --dry-run, --yes, --help');
    expect(refusal(['--fast'])).to.match(/^unknown option --fast\n/); // nothing close: no guess
    expect(refusal(['-x'])).to.match(/^unknown option -x\n/);
  });

  it('refuses an option with its value missing, naming it', () => {
    expect(refusal(['--days'])).to.equal('--days needs a value');
    expect(refusal(['--days', '--dry-run'])).to.contain('--days needs a value');
    expect(refusal(['--days', '-5'])).to.contain(
      '--days needs a value (for one starting with "-": --days=-5)',
    );
  });

  it('refuses a value given to a flag that takes none, and unexpected positionals', () => {
    expect(refusal(['--days', '5', '--yes=no'])).to.equal('--yes takes no value');
    expect(refusal(['--days', '5', 'audit-logs-*'])).to.contain('unexpected argument "audit-logs-*"');
  });

  it('gives every script --help and -h', () => {
    expect(parse(['--help'])).to.deep.equal({ _: [], help: true });
    expect(parse(['-h'])).to.deep.equal({ _: [], help: true });
  });

  it('checks options passed on to another tool by its list, negations included, and keeps their order', () => {
    const spec = {
      options: { nodes: { type: 'string' } },
      positionals: true,
      forwarded: {
        name: 'mocha',
        options: { grep: { type: 'string', short: 'g' }, diff: { type: 'boolean' } },
      },
    } as const;
    const { args, tokens } = parseCliArgs(['a.test.ts', '--nodes', '3', '-g', 'x', '--no-diff'], spec);
    expect(args).to.deep.equal({ _: ['a.test.ts'], nodes: '3', grep: 'x', diff: false });
    expect(tokens.filter((t) => t.kind === 'option').map((t) => t.index)).to.deep.equal([1, 3, 5]);
    const msg = refusal(['--grp', 'x'], spec);
    expect(msg).to.contain('unknown option --grp (did you mean --grep?)');
    expect(msg).to.contain('options: --nodes, --help, and those of mocha');
    expect(refusal(['--no-such-option'], spec)).to.match(/^unknown option --no-such-option\n/);
  });

  it('nearestName: a close misspelling or a prefix, never a far guess', () => {
    const names = ['action', 'actor', 'resource-type', 'exclude-departed'];
    expect(nearestName('acton', names)).to.equal('action');
    expect(nearestName('exclude', names)).to.equal('exclude-departed');
    expect(nearestName('resource', names)).to.equal('resource-type');
    expect(nearestName('fast', names)).to.equal(undefined);
  });

  it('stringFlag: a usage error naming the flag when it is required or empty', () => {
    const args = parse(['--days', '5', '--pattern=']);
    expect(stringFlag(args, 'days', true)).to.equal('5');
    expect(stringFlag(args, 'missing')).to.equal(undefined);
    expect(() => stringFlag(args, 'missing', true)).to.throw(UsageError, '--missing is required');
    expect(() => stringFlag(args, 'pattern')).to.throw(UsageError, '--pattern needs a value');
  });

  it('intFlag: defaults, "_" separators, and bounds named in the error', () => {
    const days = (v?: string) => parse(v === undefined ? [] : ['--days', v]);
    expect(intFlag(days(), 'days', { default: 7 })).to.equal(7);
    expect(intFlag(days('1_000_000'), 'days')).to.equal(1_000_000);
    expect(() => intFlag(days(), 'days')).to.throw(UsageError, '--days is required');
    expect(() => intFlag(days('0'), 'days')).to.throw(
      UsageError,
      '--days must be an integer of at least 1 (got "0")',
    );
    expect(() => intFlag(days('1001'), 'days', { max: 1000 })).to.throw(
      UsageError,
      '--days must be an integer from 1 to 1000 (got "1001")',
    );
    expect(() => intFlag(days('2.5'), 'days')).to.throw(UsageError, /got "2\.5"/);
  });
});
