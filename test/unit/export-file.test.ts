import { expect } from 'chai';
import { UsageError } from '../../scripts/lib/cli.ts';
import { exportFormatFor } from '../../scripts/lib/export.ts';

describe('npm run export: the file format (scripts/lib/export.ts)', () => {
  it('takes the format from the extension of --out when --format is not given', () => {
    expect(exportFormatFor('x.csv')).to.equal('csv');
    expect(exportFormatFor('/tmp/Audit.CSV')).to.equal('csv');
    expect(exportFormatFor('x.ndjson')).to.equal('ndjson');
    expect(exportFormatFor('x')).to.equal('ndjson');
    expect(exportFormatFor('x.txt')).to.equal('ndjson');
  });

  it('follows --format where the extension says nothing, and refuses one that contradicts it', () => {
    expect(exportFormatFor('x.txt', 'csv')).to.equal('csv');
    expect(exportFormatFor('x.csv', 'csv')).to.equal('csv');
    expect(() => exportFormatFor('x.csv', 'ndjson')).to.throw(
      UsageError,
      '--out x.csv names a csv file but --format is ndjson',
    );
    expect(() => exportFormatFor('x.ndjson', 'csv')).to.throw(UsageError, /names a ndjson file/);
    expect(() => exportFormatFor('x', 'xml')).to.throw(
      UsageError,
      '--format must be ndjson or csv (got "xml")',
    );
  });
});
