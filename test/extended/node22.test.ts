import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

// We support Node.js 20 and 22. The suite runs on the machine's node; this test runs the unit tests
// and the core end-to-end tests again on Node.js 22 (installed by `SETUP_FOR_TESTS=1 scripts/setup.sh`),
// daemon included, since the daemon is spawned with the same binary.
const root = fileURLToPath(new URL('../../', import.meta.url));
const node22 = `${root}.state/node22/node_modules/node/bin/node`;

test('the unit tests and the core end-to-end tests pass on Node.js 22', { skip: process.version.startsWith('v22.') && 'already on Node.js 22' }, () => {
  assert.ok(existsSync(node22), `Node.js 22 is missing at ${node22}: run SETUP_FOR_TESTS=1 bash scripts/setup.sh`);
  const version = spawnSync(node22, ['--version'], { encoding: 'utf8' }).stdout.trim();
  assert.match(version, /^v22\./);
  const unit = readdirSync(`${root}test/unit`).filter((f) => f.endsWith('.test.ts')).map((f) => `test/unit/${f}`);
  const run = spawnSync(node22, ['--conditions=source', '--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...unit, 'test/integration/core.test.ts'], {
    cwd: root,
    encoding: 'utf8',
    // Without NODE_TEST_CONTEXT the inner runner reports as a top-level run, not as our child.
    env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_TEST_CONTEXT')), TEST_ENGINES: 'docker' },
    timeout: 600_000,
  });
  const summary = /ℹ pass (\d+)\s+ℹ fail (\d+)/.exec(run.stdout);
  assert.equal(run.status, 0, `Node.js ${version}:\n${run.stdout.slice(-4000)}\n${run.stderr.slice(-2000)}`);
  assert.ok(summary && Number(summary[1]) > 20 && summary[2] === '0', `unexpected summary on Node.js 22:\n${run.stdout.slice(-1500)}`);
});
