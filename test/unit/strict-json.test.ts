import { expect } from 'chai';
import { MAX_DEPTH, scanJson, type JsonProblem } from '../../src/json-scan.ts';

/** The problems of a text JSON.parse accepts (the scan's precondition). */
function scan(text: string, batch = false): JsonProblem[] {
  JSON.parse(text);
  return scanJson(text, batch ? { batchKey: 'events' } : {});
}

const nested = (levels: number, open: string, close: string, inner = '1') =>
  open.repeat(levels) + inner + close.repeat(levels);

describe('strict JSON scan (strict-json.ts)', () => {
  it('passes ordinary events, and numbers written otherwise that keep their value', () => {
    const ok = [
      '{"action":"a.b","metadata":{"n":1,"s":"x\\"y\\\\","arr":[1,2,{"k":null}],"t":true,"f":false}}',
      '{"m":[5.0,1e2,-0,0.0,0e999,-0e-999,1E+2,0.1,0.30000000000000004,123456789012345.6,1.5e-7]}',
      '{"m":[9007199254740991,-9007199254740991,1e308,1.7976931348623157e308,5e-324,2.2250738585072014e-308]}',
      '{"m":[18014398509481984.0,1e21,4.35,100000000000000000000000e-3]}',
      '{"constructor":"x","a":{"constructor":{"x":1}},"b":[{"constructor":[{"prototype":1}]}],"prototype":{}}',
      '{"proto":1,"__proto":2,"_proto__":3,"p":"__proto__","q":{"v":"\\"__proto__\\":1"}}',
      '{"a":1,"b":{"a":1},"c":[{"a":1},{"a":1}]}',
      '{"k\\u00e9":1,"ké2":2}',
      '"just a string"',
      '[]',
      '12',
    ];
    for (const text of ok) expect(scan(text), text).to.deep.equal([]);
  });

  it('reports each kind of problem with the path at fault', () => {
    const cases: [string, string, RegExp][] = [
      ['{"metadata":{"__proto__":{"polluted":1}}}', 'metadata.__proto__', /"__proto__" is not accepted/],
      ['{"__proto__":1}', '__proto__', /"__proto__"/],
      ['{"m":{"\\u005f_proto__":1}}', 'm.__proto__', /"__proto__"/],
      ['{"m":[0,{"a":[{"__proto__":[]}]}]}', 'm[1].a[0].__proto__', /"__proto__"/],
      ['{"m":{"a":{"constructor":{"prototype":{"p":1}}}}}', 'm.a.constructor', /"constructor" key/],
      ['{"m":{"constructor":{"x":1,"prototype":2}}}', 'm.constructor', /"constructor" key/],
      ['{"m":{"constructor":null}}', 'm.constructor', /"constructor" key/],
      ['{"id":"c7b","id":"c7c"}', 'id', /given twice/],
      ['{"m":{"a":{"x":1,"y":2,"x":3}}}', 'm.a.x', /given twice/],
      ['{"m":{"a":1,"\\u0061":2}}', 'm.a', /given twice/],
      ['{"m":[{"a":1},{"b":1,"b":2}]}', 'm[1].b', /given twice/],
      ['{"m":{"x":1e309}}', 'm.x', /1e309, beyond the range/],
      ['{"m":{"x":-1e309}}', 'm.x', /-1e309, beyond the range/],
      ['{"m":{"x":1.7976931348623159e308}}', 'm.x', /beyond the range/],
      ['{"m":{"x":1e-400}}', 'm.x', /1e-400, too close to 0/],
      [
        '{"m":{"x":-0.0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000001}}',
        'm.x',
        /too close to 0/,
      ],
      ['{"m":{"x":9007199254740993}}', 'm.x', /9007199254740993, an integer beyond ±9007199254740991/],
      ['{"m":{"x":9007199254740992}}', 'm.x', /an integer beyond/],
      ['{"m":{"x":-123456789012345678901234567890}}', 'm.x', /an integer beyond/],
      ['{"m":{"x":0.1000000000000000000001}}', 'm.x', /more significant digits.*stored as 0\.1\)/],
      ['{"m":{"x":9007199254740993.0}}', 'm.x', /stored as 9007199254740992\)/],
      ['{"m":{"x":0.30000000000000003}}', 'm.x', /stored as 0\.30000000000000004\)/],
      ['{"m":{"x":4.9406564584124654e-324}}', 'm.x', /stored as 5e-324\)/],
      ['{"m":{"x":1.23456789012345e-320}}', 'm.x', /more significant digits/],
    ];
    for (const [text, path, message] of cases) {
      const problems = scan(text);
      expect(problems, text).to.have.length(1);
      expect(problems[0]!.record, text).to.equal(-1);
      expect(problems[0]!.path, text).to.equal(path);
      expect(problems[0]!.message, text)
        .to.match(message)
        .and.satisfy((m: string) => m.startsWith(path));
    }
  });

  it(`allows ${MAX_DEPTH} levels below the record (metadata is level 1) and refuses one more`, () => {
    expect(scan(`{"metadata":${nested(MAX_DEPTH, '{"a":', '}')}}`)).to.deep.equal([]);
    expect(scan(`{"metadata":${nested(MAX_DEPTH, '[', ']')}}`)).to.deep.equal([]);
    const [objects] = scan(`{"metadata":${nested(MAX_DEPTH + 1, '{"a":', '}')}}`);
    expect(objects!.path).to.equal(`metadata${'.a'.repeat(MAX_DEPTH)}`);
    expect(objects!.message).to.match(new RegExp(`deeper than ${MAX_DEPTH} levels`));
    const [arrays] = scan(`{"metadata":${nested(MAX_DEPTH + 1, '[', ']', '')}}`);
    expect(arrays!.path).to.equal(`metadata${'[0]'.repeat(MAX_DEPTH)}`);
  });

  it('survives 100,000 levels of arrays and objects without recursion', () => {
    // The root array is the record (level 0).
    expect(scan(nested(100_000, '[', ']', ''))[0]!.path).to.equal('[0]'.repeat(MAX_DEPTH + 1));
    expect(scan(`{"m":${nested(100_000, '{"a":', '}')}}`)[0]!.path).to.match(/^m(\.a){20}$/);
  });

  describe('a batch ({ "events": [...] })', () => {
    it('reports the first problem of each event by its position, with paths inside the event', () => {
      const text =
        '{"events":[{"a":1},{"b":{"__proto__":1}},{"c":1e999,"d":{"__proto__":2}},{"ok":1},' +
        `{"m":${nested(30, '[', ']', '')}},{"z":2,"z":3},{"m":{"a":${nested(MAX_DEPTH - 1, '[', ']', '')}}}]}`;
      expect(scan(text, true).map(({ record, path }) => [record, path])).to.deep.equal([
        [1, 'b.__proto__'],
        [2, 'c'],
        [4, `m${'[0]'.repeat(MAX_DEPTH)}`],
        [5, 'z'],
      ]);
    });

    it('reports problems outside the events array from the root, and stops there', () => {
      expect(scan('{"events":[{"a":1}],"events":[{"__proto__":1}]}', true)).to.deep.equal([
        {
          record: -1,
          path: 'events',
          message:
            'events is given twice in the same object; JSON keeps only one of them, so send each key once',
        },
      ]);
      expect(scan('{"x":{"__proto__":1},"events":[]}', true)[0]).to.include({
        record: -1,
        path: 'x.__proto__',
      });
    });

    it('treats a single event (no "events" key) as one record from the root', () => {
      expect(scan('{"metadata":{"events":[{"__proto__":1}]}}', true)[0]).to.include({
        record: -1,
        path: 'metadata.events[0].__proto__',
      });
    });
  });

  it('does not mistake quotes, brackets or digits inside strings for structure', () => {
    const text = '{"s":"{\\"__proto__\\":1, [[[ 1e999 \\\\","t":"\\\\\\"","k":{"a":1},"u":"}]"}';
    expect(scan(text)).to.deep.equal([]);
  });

  it('switches to a set for objects with many keys and still finds a repeat', () => {
    const keys = Array.from({ length: 200 }, (_, i) => `"k${i}":${i}`);
    expect(scan(`{${keys.join(',')}}`)).to.deep.equal([]);
    expect(scan(`{${keys.join(',')},"k150":1}`)[0]!.path).to.equal('k150');
    expect(scan(`{"a":{${keys.join(',')}},"b":{"k1":1,"k2":2}}`)).to.deep.equal([]);
  });
});
