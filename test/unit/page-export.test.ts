/** Export encoding and histogram interval choice: the pure parts of the admin page's API endpoints. */
import { expect } from 'chai';
import { Writable } from 'node:stream';
import type { Response } from 'express';
import { chooseInterval, MAX_BUCKETS } from '../../src/query/aggregations.ts';
import { CSV_HEADER, csvCell, csvRow, ndjsonLine } from '../../src/query/export-format.ts';
import { streamExport } from '../../src/http/export-stream.ts';
import type { AuditEntry } from '../../src/events/schema.ts';

const entry: AuditEntry = {
  id: 'evt_1',
  action: 'workflow.created',
  resourceType: 'workflow',
  resourceId: 'wf_1',
  resourceName: 'Onboarding, "v2"',
  description: 'Created workflow "Onboarding, \\"v2\\""',
  actorId: null,
  actorName: null,
  actorEmail: null,
  workspaceId: 'ws_1',
  metadata: { a: 1, note: 'x,y' },
  createdAt: '2026-04-20T21:16:00.000Z',
};

describe('export encoding', () => {
  it('quotes cells with commas, quotes and line breaks, doubling inner quotes', () => {
    expect(csvCell('plain')).to.equal('plain');
    expect(csvCell('a,b')).to.equal('"a,b"');
    expect(csvCell('say "hi"')).to.equal('"say ""hi"""');
    expect(csvCell('two\nlines')).to.equal('"two\nlines"');
    expect(csvCell('cr\rhere')).to.equal('"cr\rhere"');
  });

  it('defuses cells a spreadsheet would run as a formula', () => {
    expect(csvCell('=1+1')).to.equal("'=1+1");
    expect(csvCell('+SUM(A1)')).to.equal("'+SUM(A1)");
    expect(csvCell('-2')).to.equal("'-2");
    expect(csvCell('@cmd')).to.equal("'@cmd");
    expect(csvCell('\t=x')).to.equal("'\t=x");
    expect(csvCell('=HYPERLINK("http://x","y")')).to.equal('"\'=HYPERLINK(""http://x"",""y"")"');
    expect(csvCell('a=b')).to.equal('a=b');
  });

  it('defuses cells that start with a character spreadsheets skip or read as a formula start', () => {
    // Some spreadsheets trim leading whitespace and line breaks before evaluating, take ; and | as the start
    // of a DDE payload, or read the full-width ＝ ＋ － ＠ as their ASCII forms.
    for (const lead of ['\n', '\r', '\t', ' ', ';', '|', '\uFF1D', '\uFF0B', '\uFF0D', '\uFF20']) {
      const cell = csvCell(`${lead}cmd|' /C calc'!A0`);
      expect(cell.replace(/^"/, ''), JSON.stringify(lead)).to.match(/^'/);
    }
    expect(csvCell('\n=1+1')).to.equal('"\'\n=1+1"');
    expect(csvCell('\uFF1D1+1')).to.equal("'\uFF1D1+1");
    expect(csvCell('a;b|c')).to.equal('a;b|c');
    expect(csvRow({ ...entry, description: '\uFF20SUM(1)' })).to.contain(",'\uFF20SUM(1),");
  });

  it('defuses a formula behind leading whitespace or invisible characters', () => {
    // Spreadsheets skip these before evaluating: a cell they lead is as dangerous as a bare "=".
    const leads = {
      VT: '\v',
      FF: '\f',
      NBSP: '\u00A0',
      'ideographic space': '\u3000',
      BOM: '\uFEFF',
      'zero-width space': '\u200B',
      'zero-width joiner': '\u200D',
      'word joiner': '\u2060',
      'en quad': '\u2000',
      'line separator': '\u2028',
    };
    for (const [name, lead] of Object.entries(leads)) {
      for (const formula of ['=1+1', '+1', '-1', '@SUM(1)']) {
        expect(csvCell(`${lead}${formula}`).replace(/^"/, ''), `${name} before ${formula}`).to.match(/^'/);
      }
    }
    expect(csvRow({ ...entry, description: '\u200B=HYPERLINK("http://x")' })).to.contain(
      ',"\'\u200B=HYPERLINK(""http://x"")",',
    );
  });

  it('writes null as an empty cell and metadata as JSON, one CRLF row per entry in header order', () => {
    expect(CSV_HEADER).to.equal(
      'id,action,resourceType,resourceId,resourceName,description,actorId,actorName,actorEmail,workspaceId,metadata,createdAt\r\n',
    );
    expect(csvRow(entry)).to.equal(
      'evt_1,workflow.created,workflow,wf_1,"Onboarding, ""v2""","Created workflow ""Onboarding, \\""v2\\""""",,,,ws_1,' +
        '"{""a"":1,""note"":""x,y""}",2026-04-20T21:16:00.000Z\r\n',
    );
  });

  it('writes NDJSON as one JSON object per line, exactly the entry', () => {
    const line = ndjsonLine({ ...entry, description: 'line\nbreak' });
    expect(line.endsWith('\n')).to.equal(true);
    expect(line.slice(0, -1)).to.not.contain('\n');
    expect(JSON.parse(line)).to.deep.equal({ ...entry, description: 'line\nbreak' });
  });

  it('escapes U+2028 and U+2029 in NDJSON, which JavaScript and some line readers take for line breaks', () => {
    const description = 'a\u2028b\u2029c';
    const line = ndjsonLine({ ...entry, description });
    expect(line).to.not.match(/[\u2028\u2029]/);
    expect(line).to.contain('a\\u2028b\\u2029c');
    expect(JSON.parse(line).description).to.equal(description);
  });
});

describe('export streaming', () => {
  /** A response that takes its writes slowly, so a long export waits for 'drain' many times. */
  function slowResponse(): Writable & { body: string } {
    const res = new Writable({
      highWaterMark: 1024,
      write(chunk: Buffer, _enc, done) {
        res.body += chunk.toString();
        setImmediate(done);
      },
    }) as Writable & { body: string };
    res.body = '';
    Object.assign(res, { status: () => res, set: () => res });
    return res;
  }

  it('does not pile up close listeners on the response while it waits for the client', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    const res = slowResponse();
    let most = 0;
    res.on('drain', () => (most = Math.max(most, res.listenerCount('close'))));
    async function* entries() {
      for (let i = 0; i < 12_000; i++) yield { ...entry, id: `evt_${i}` };
    }
    try {
      await streamExport(res as unknown as Response, entries(), 'ndjson', 'x');
      await new Promise((r) => setImmediate(r)); // warnings are emitted on a later tick
    } finally {
      process.off('warning', onWarning);
    }
    expect(res.body.split('\n').length).to.equal(12_001);
    expect(warnings.map((w) => w.name)).to.not.include('MaxListenersExceededWarning');
    expect(most).to.be.at.most(2);
  });
});

describe('histogram interval', () => {
  it('picks the finest interval that keeps the bucket count at most MAX_BUCKETS', () => {
    expect(chooseInterval(3600e3).interval).to.equal('1m');
    expect(chooseInterval(86400e3).interval).to.equal('30m');
    expect(chooseInterval(7 * 86400e3).interval).to.equal('3h');
    expect(chooseInterval(30 * 86400e3).interval).to.equal('12h');
    expect(chooseInterval(90 * 86400e3).interval).to.equal('2d');
    for (const span of [1, 59e3, 3600e3, 86400e3 * 365 * 5]) {
      const { intervalMs } = chooseInterval(span);
      expect(span / intervalMs).to.be.at.most(MAX_BUCKETS);
    }
  });
});
