import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { camel, parameterAliases, pyrepr, serverStub, toolSignatures, type StubServer } from '../../daemon/src/upstreams/stubs.ts';

// The same fixture the sandbox's tests read (packages/sandbox/tests/test_stubs.py): the Python
// generator and this one must write the very same text for every case.
const { cases } = JSON.parse(readFileSync(new URL('../../packages/protocol/fixtures/stubs/cases.json', import.meta.url), 'utf8')) as {
  cases: { name: string; server: StubServer; stub: string }[];
};

test('the fixture covers nested objects, enums, unions, arrays, defaults, aliases and docstrings', () => {
  const all = cases.map((c) => c.stub).join('\n');
  for (const piece of ['class EntitiesItem(TypedDict):', "RelationsItem = TypedDict('RelationsItem', {", 'Literal[', 'Union[', 'Optional[', 'List[', 'Dict[str, int]', 'Required[', ': float = None', ': Optional[str] = None', "= 'README.md.gz'", 'from_: str', '**kwargs: Any'])
    assert.ok(all.includes(piece), piece);
});

for (const { name, server, stub } of cases) {
  test(`stub of ${name} matches the shared fixture`, () => {
    assert.equal(serverStub(server), stub);
  });
}

test('signatures are the text after `async def <alias>` in the stub', () => {
  const everything = cases[0]!.server;
  assert.equal(toolSignatures(everything).get('get-sum'), '(*, a: float, b: float)');
  for (const c of cases) {
    for (const [tool, signature] of toolSignatures(c.server)) {
      const alias = c.server.tools.find((t) => t.name === tool)!.alias;
      assert.ok(c.stub.includes(`async def ${alias}${signature}: """`), `${c.name}: ${tool}`);
    }
  }
});

test("values are written as Python's repr writes them", () => {
  assert.equal(pyrepr({ a: [1, 2.5, null, true], "it's": 'say "x"' }), `{'a': [1, 2.5, None, True], "it's": 'say "x"'}`);
  assert.equal(pyrepr(1e-7), '1e-07');
  assert.equal(pyrepr(0.0001), '0.0001');
  assert.equal(pyrepr(1e21), '1e+21');
  assert.equal(pyrepr(-2.5e-5), '-2.5e-05');
  assert.equal(pyrepr(123456789012345680000), '123456789012345680000');
  assert.equal(pyrepr('tab\t\u0000\u00e9\u200b\ud800\u{1F600}\u{E000}'), "'tab\\t\\x00\u00e9\\u200b\\ud800\u{1F600}\\ue000'");
  assert.equal(pyrepr("both ' and \""), `'both \\' and "'`);
});

test('names: aliases for properties that are not identifiers, class names from any text', () => {
  assert.deepEqual(parameterAliases(['from', 'user-id', 'user_id', '2fa', '', 'None', 'ok', 'a b', 'a_b']), ['from_', 'user_id_2', 'user_id', '_2fa', '_', 'None_', 'ok', 'a_b_2', 'a_b']);
  assert.equal(camel('entity_type'), 'EntityType');
  assert.equal(camel('2fa'), 'T2fa');
  assert.equal(camel('---'), 'Object');
});
