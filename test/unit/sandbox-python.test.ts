import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

// The Python agent's own suite (stdlib unittest), run here so that one runner reports everything.
test('the sandbox agent passes its Python unit tests', () => {
  const cwd = fileURLToPath(new URL('../../packages/sandbox/', import.meta.url));
  const run = spawnSync('python3', ['-m', 'unittest', 'discover', '-s', 'tests'], { cwd, encoding: 'utf8', timeout: 300_000 });
  assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
  const ran = /Ran (\d+) tests?/.exec(run.stderr);
  assert.ok(ran && Number(ran[1]) > 0, `no Python test ran:\n${run.stderr}`);
});
