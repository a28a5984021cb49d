import { Type } from '@sinclair/typebox';
import { expect } from 'chai';
import { noQuery, queryParser } from '../../src/query-string.ts';
import { errorOf } from './api-error.ts';

describe('query strings (one parser for every route)', () => {
  const parse = queryParser(
    Type.Object(
      {
        tags: Type.Optional(Type.String({ pattern: '^[a-z]+(,[a-z]+)*$' })),
        flag: Type.Optional(Type.Boolean()),
        limit: Type.Integer({ minimum: 1, maximum: 10, default: 5 }),
      },
      { additionalProperties: false },
    ),
    { hints: { limit: (given) => `limit must be 1-10 (got "${given}").` }, lists: ['tags'] },
  );

  it('types integers and booleans, fills in defaults, and joins a repeated list parameter', () => {
    expect(parse({})).to.deep.equal({ limit: 5 });
    expect(parse({ limit: '7', flag: 'false', tags: ['a', 'b'] })).to.deep.equal({
      limit: 7,
      flag: false,
      tags: 'a,b',
    });
  });

  it('takes integers only as plain decimals', () => {
    for (const form of ['0x10', '1e1', '+5', '5.0', ' 5', '05', '-1', '']) {
      expect(
        errorOf(() => parse({ limit: form })),
        form,
      ).to.include({
        code: 'invalid_parameter',
        param: 'limit',
        message: `limit must be 1-10 (got "${form}").`,
      });
    }
  });

  it('names an unknown parameter, a repeated one, and a refused value', () => {
    expect(errorOf(() => parse({ limit: '1', nope: 'x' }))).to.include({
      code: 'unknown_parameter',
      param: 'nope',
    });
    expect(errorOf(() => parse({ constructor: ['a', 'b'] }))).to.include({ code: 'unknown_parameter' });
    expect(errorOf(() => parse({ limit: ['1', '2'] }))).to.include({
      code: 'invalid_parameter',
      param: 'limit',
      message: 'limit was given more than once; give it once.',
    });
    expect(errorOf(() => parse({ flag: 'yes' }))).to.include({ code: 'invalid_parameter', param: 'flag' });
    expect(errorOf(() => noQuery({ a: '1' }))).to.include({ code: 'unknown_parameter', param: 'a' });
    expect(noQuery({})).to.deep.equal({});
  });
});
