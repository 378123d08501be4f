import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ArgumentValidator } from '../../daemon/src/upstreams/arg-validator.ts';
import { RpcFailure } from '../../daemon/src/rpc/rpc-failure.ts';

const tool = (inputSchema: Record<string, unknown>) => ({ name: 'get-sum', inputSchema });
const SUM = tool({
  type: 'object',
  properties: { a: { type: 'number' }, b: { type: 'number' }, mode: { enum: ['fast', 'exact'] }, tags: { type: 'array', items: { type: 'string' } } },
  required: ['a', 'b'],
  additionalProperties: false,
  $schema: 'http://json-schema.org/draft-07/schema#',
});

function failure(fn: () => void): RpcFailure {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof RpcFailure);
    return err;
  }
  assert.fail('expected an RpcFailure');
}

test('valid arguments pass', () => {
  new ArgumentValidator().check('everything', SUM, { a: 1, b: 2.5, tags: ['x'] });
});

test('each kind of mismatch names the argument and what was expected', () => {
  const v = new ArgumentValidator();
  const cases: [Record<string, unknown>, string][] = [
    [{ a: '1', b: 2 }, 'argument "a": expected number, got string "1"'],
    [{ a: 1 }, 'missing required argument "b"'],
    [{ a: 1, b: 2, c: 3 }, 'unknown argument "c" (it takes: a, b, mode, tags)'],
    [{ a: 1, b: 2, mode: 'slow' }, 'argument "mode": expected one of "fast", "exact", got "slow"'],
    [{ a: 1, b: 2, tags: ['ok', 7] }, 'argument "tags[1]": expected string, got integer 7'],
  ];
  for (const [args, reason] of cases) {
    const err = failure(() => v.check('everything', SUM, args));
    assert.equal(err.code, 'invalid_arguments');
    assert.equal(err.message, `invalid arguments for everything.get-sum: ${reason}`);
  }
});

test('several problems are all named, up to a limit', () => {
  const err = failure(() => new ArgumentValidator().check('s', SUM, { a: 'x', b: 'y', c: 1, d: 2 }));
  assert.equal(err.message, 'invalid arguments for s.get-sum: argument "a": expected number, got string "x"; argument "b": expected number, got string "y"; unknown arguments "c", "d" (it takes: a, b, mode, tags)');
  const many = failure(() => new ArgumentValidator().check('s', SUM, { a: 'x', b: 'y', mode: 1, tags: 2 }));
  assert.match(many.message, /\(and 1 more\)$/);
});

test('draft 2020-12 schemas are checked with their own dialect', () => {
  const schema = tool({ $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', properties: { pair: { type: 'array', prefixItems: [{ type: 'string' }, { type: 'number' }] } } });
  const v = new ArgumentValidator();
  v.check('s', schema, { pair: ['a', 1] });
  assert.match(failure(() => v.check('s', schema, { pair: [1, 1] })).message, /argument "pair\[0\]": expected string, got integer 1/);
});

test('formats are checked; a schema ajv cannot compile is not enforced', () => {
  const v = new ArgumentValidator();
  const uri = tool({ type: 'object', properties: { url: { type: 'string', format: 'uri' } } });
  assert.match(failure(() => v.check('s', uri, { url: 'not a uri' })).message, /argument "url" must match format "uri"/);
  v.check('s', tool({ type: 'object', properties: { x: { $ref: '#/definitions/missing' } } }), { x: 1 });
  v.check('s', { name: 'free' }, { anything: true });
});
