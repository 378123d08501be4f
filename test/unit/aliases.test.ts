import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { makeAliases, toIdentifier } from '../../daemon/src/upstreams/aliases.ts';

// The cases the Python side (packages/sandbox/src/mcp/aliases.py) is tested with: the daemon
// computes the aliases of every execute frame, so both must give the same answer.
const CASES = new URL('../../packages/sandbox/tests/alias_cases.json', import.meta.url);

test('the shared alias cases file exists', () => {
  assert.ok(existsSync(CASES), `missing ${CASES.pathname}: the TypeScript and Python alias rules cannot be compared without it`);
});

test('aliases agree with every shared case of the Python side', () => {
  const cases = JSON.parse(readFileSync(CASES, 'utf8')) as { names: string[]; aliases: string[] }[];
  assert.ok(cases.length >= 10, 'the shared cases file is too small to mean anything');
  for (const { names, aliases } of cases) assert.deepEqual(makeAliases(names), aliases, JSON.stringify(names));
});

test('every alias is a valid, non-keyword Python identifier', () => {
  const samples = ['get-sum', '2fa', 'lambda', 'None', 'über tool', '', 'a.b.c', 'x'.repeat(300)];
  for (const name of samples) {
    const alias = toIdentifier(name);
    assert.match(alias, /^[a-z_][a-z0-9_]*$/, name);
    assert.ok(!['lambda', 'class', 'def'].includes(alias));
  }
});
