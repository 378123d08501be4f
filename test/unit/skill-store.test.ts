import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { RpcFailure } from '../../daemon/src/rpc/rpc-failure.ts';
import { handleSkillRpc } from '../../daemon/src/rpc/skill-methods.ts';
import { MAX_SKILL_BYTES, SkillStore } from '../../daemon/src/skills/skill-store.ts';

function store(): { store: SkillStore; dir: string; [Symbol.dispose](): void } {
  const root = mkdtempSync(join(tmpdir(), 'skills-'));
  const dir = join(root, 'skills');
  return { store: new SkillStore(dir), dir, [Symbol.dispose]: () => rmSync(root, { recursive: true, force: true }) };
}

test('save, snapshot, replace and delete; files are the user\'s only', async () => {
  using s = store();
  assert.deepEqual(await s.store.snapshot(), []);
  await s.store.save({ name: 'add', source: 'def add(a, b):\n    return a + b\n' });
  await s.store.save({ name: 'Zed', source: 'def Zed():\n    pass\n' });
  await s.store.save({ name: 'add', source: 'def add(a, b):\n    return b + a\n' });
  assert.deepEqual(await s.store.snapshot(), [
    { name: 'Zed', source: 'def Zed():\n    pass\n' },
    { name: 'add', source: 'def add(a, b):\n    return b + a\n' },
  ]);
  assert.equal(statSync(join(s.dir, 'add.py')).mode & 0o777, 0o600);
  assert.equal(statSync(s.dir).mode & 0o777, 0o700);
  assert.deepEqual(readdirSync(s.dir).sort(), ['Zed.py', 'add.py']);
  assert.deepEqual(await s.store.delete({ name: 'add' }), { deleted: true, name: 'add' });
  assert.deepEqual(await s.store.delete({ name: 'add' }), { deleted: false, name: 'add' });
  assert.deepEqual((await s.store.snapshot()).map((x) => x.name), ['Zed']);
});

test('edits by hand are seen at the next snapshot; stray files are ignored', async () => {
  using s = store();
  await s.store.save({ name: 'f', source: 'def f():\n    return 1\n' });
  await s.store.snapshot();
  writeFileSync(join(s.dir, 'f.py'), 'def f():\n    return 22\n');
  writeFileSync(join(s.dir, 'not-a-name.py'), 'x');
  writeFileSync(join(s.dir, 'notes.txt'), 'x');
  writeFileSync(join(s.dir, 'huge.py'), 'x'.repeat(MAX_SKILL_BYTES + 1));
  assert.deepEqual(await s.store.snapshot(), [{ name: 'f', source: 'def f():\n    return 22\n' }]);
});

test('names that are not plain identifiers, keywords, paths or huge sources are refused by name', async () => {
  using s = store();
  const bad = ['../evil', 'a/b', 'class', '_private', '1abc', 'naïve', '', 'x'.repeat(65)];
  for (const name of bad) {
    await assert.rejects(handleSkillRpc(s.store, 'save_tool', { name, source: 'def f(): pass' }), (err: unknown) => err instanceof RpcFailure && err.code === 'invalid_request' && /save_tool: name/.test(err.message), name);
  }
  await assert.rejects(handleSkillRpc(s.store, 'save_tool', { name: 'big', source: 'x'.repeat(MAX_SKILL_BYTES + 1) }), (err: unknown) => err instanceof RpcFailure && err.code === 'too_large');
  await assert.rejects(handleSkillRpc(s.store, 'save_tool', { name: 'nosource' }), /save_tool: source/);
  await assert.rejects(handleSkillRpc(s.store, 'delete_saved_tool', { name: '../x' }), /delete_saved_tool: name/);
  assert.deepEqual(await s.store.snapshot(), []);
});
