// Runs tests with node's own runner (TypeScript through tsx; workspace packages resolved to their
// sources by the `source` export condition). One closing summary line for CI.
//   node scripts/run-tests.mjs unit            test/unit: no container engine, files in parallel
//   node scripts/run-tests.mjs integration     test/integration: real engines, servers and clients
//   node scripts/run-tests.mjs extended        test/extended: the soak and the Node.js 22 re-run
//   node scripts/run-tests.mjs all             all three tiers in one run (what `npm test` does)
//   node scripts/run-tests.mjs FILE...         just these files
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const files = (dir) =>
  readdirSync(join(root, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.test.ts'))
    .map((e) => join(e.parentPath ?? e.path, e.name))
    .sort();
const TIERS = { unit: ['test/unit'], integration: ['test/integration'], extended: ['test/extended'], all: ['test/unit', 'test/integration', 'test/extended'] };
const args = process.argv.slice(2);
const tier = args.length === 1 && args[0] in TIERS ? args[0] : undefined;
const list = tier ? TIERS[tier].flatMap(files) : args.length > 0 ? args : TIERS.all.flatMap(files);
// Unit tests share nothing (no engine, no fixed ports or paths), so they run side by side. Tests
// against real engines stay one file at a time: they measure containers and processes by owner.
const concurrency = tier === 'unit' ? Math.max(1, availableParallelism()) : 1;
const result = spawnSync(
  process.execPath,
  ['--conditions=source', '--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...list],
  { cwd: root, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
