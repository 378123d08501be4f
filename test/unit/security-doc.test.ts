import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';

const root = new URL('../../', import.meta.url);
const suite = ['integration', 'extended'].flatMap((dir) =>
  readdirSync(new URL(`test/${dir}/`, root))
    .filter((name) => /^(hostile-.*|soak)\.test\.ts$/.test(name))
    .map((name) => `test/${dir}/${name}`),
);

test('docs/SECURITY.md has one row per hostile case, and no row without a case', () => {
  const cases = new Set<string>();
  for (const name of suite) {
    const source = readFileSync(new URL(name, root), 'utf8');
    for (const match of source.matchAll(/\btest\(\s*['`]([A-Z]\d+) /g)) cases.add(match[1]!);
  }
  const doc = readFileSync(new URL('docs/SECURITY.md', root), 'utf8');
  const rows = [...doc.matchAll(/^\| ([A-Z]\d+) \|/gm)].map((m) => m[1]!);
  assert.equal(new Set(rows).size, rows.length, 'a case has two rows');
  assert.deepEqual([...new Set(rows)].sort(), [...cases].sort());
  assert.ok(cases.size >= 40, `${cases.size} cases`);
});
