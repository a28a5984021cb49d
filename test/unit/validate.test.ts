import { expect } from 'chai';
import { Type } from '@sinclair/typebox';
import { MemberBody, OrgBody, OrgParams } from '../../src/directory/schemas.ts';
import { changedFields } from '../../src/directory/diff.ts';
import { errorOf } from './api-error.ts';
import { validator } from '../../src/validation.ts';

describe('request validation (ajv from TypeBox)', () => {
  const org = validator(OrgBody);
  const member = validator(MemberBody);

  it('returns the value typed when it is valid', () => {
    expect(org({ name: 'Acme', plan: 'team' })).to.deep.equal({ name: 'Acme', plan: 'team' });
  });

  it('names the field at fault, with a message saying what is expected', () => {
    const cases: [unknown, string, RegExp][] = [
      [{ plan: 'team' }, 'name', /"name" is required/],
      [{ name: 'A', plan: 'gold' }, 'plan', /one of: free, team, enterprise/],
      [{ name: 5, plan: 'team' }, 'name', /"name" must be string/],
      [{ name: 'A', plan: 'team', x: 1 }, 'x', /Unknown field "x"/],
    ];
    for (const [value, param, message] of cases) {
      const err = errorOf(() => org(value));
      expect(err).to.include({ status: 400, code: 'invalid_body', param });
      expect(err.message).to.match(message);
    }
    expect(errorOf(() => member({ email: 'nope', name: 'A', role: 'admin' })).param).to.equal('email');
  });

  it('names nested fields by their path', () => {
    const nested = validator(
      Type.Object({ a: Type.Object({ b: Type.Integer() }, { additionalProperties: false }) }),
    );
    expect(errorOf(() => nested({ a: { b: 'x' } })).param).to.equal('a.b');
    expect(errorOf(() => nested({ a: { b: 1, c: 1 } })).param).to.equal('a.c');
    expect(errorOf(() => nested({ a: {} })).param).to.equal('a.b');
  });

  it('refuses a body that is not an object without naming a field', () => {
    for (const value of [[1], 'text', null, 3]) {
      const err = errorOf(() => org(value));
      expect(err.param).to.equal(undefined);
      expect(err.message).to.equal('The body must be a JSON object.');
    }
  });

  it('reports path parameters as invalid_parameter; ids starting with "_" are reserved', () => {
    const params = validator(OrgParams, 'path');
    expect(errorOf(() => params({ orgId: '_operator' }))).to.include({
      code: 'invalid_parameter',
      param: 'orgId',
    });
    expect(params({ orgId: 'acme.eu-1:prod' })).to.deep.equal({ orgId: 'acme.eu-1:prod' });
  });
});

describe('directory change sets', () => {
  it('lists only the fields that change, as { from, to }', () => {
    expect(changedFields({ name: 'A', plan: 'team' }, { name: 'A', plan: 'enterprise' })).to.deep.equal({
      plan: { from: 'team', to: 'enterprise' },
    });
    expect(changedFields({ name: 'A' }, { name: 'A' })).to.equal(undefined);
  });
});
