// Runs every test with node's own runner (TypeScript through tsx). Unit tests first, then the
// integration tests against the real engine; one closing summary line for CI.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const files = (dir) =>
  readdirSync(join(root, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.test.ts'))
    .map((e) => join(e.parentPath ?? e.path, e.name))
    .sort();
const selected = process.argv.slice(2);
const list = selected.length > 0 ? selected : [...files('test/unit'), ...files('test/integration')];
const result = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...list], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
