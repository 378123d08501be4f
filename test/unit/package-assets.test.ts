// Where the daemon finds the files that are not JavaScript: the agent's Python sources and the
// offline image builder, in a checkout and in an installed package (test/integration/pack.test.ts
// installs the tarballs for real).
import assert from 'node:assert/strict';
import { realpathSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BUILDER_LOCATIONS, locateBuilder } from '../../daemon/src/runtimes/container/image.ts';
import { DEFAULT_SANDBOX_DIR } from '../../daemon/src/agent/agent-bundle.ts';

const repo = (path: string): string => fileURLToPath(new URL(`../../${path}`, import.meta.url));
const locations = { packaged: '/pkg/assets/docker/build-local-image.sh', checkout: '/repo/docker/build-local-image.sh' };

test('the agent sources are the @mcp-code-mode/sandbox package, which in a checkout is packages/sandbox', () => {
  assert.equal(realpathSync(DEFAULT_SANDBOX_DIR), realpathSync(repo('packages/sandbox')));
});

test("the builder's two locations are the daemon package's assets/docker and the checkout's docker/", () => {
  assert.equal(BUILDER_LOCATIONS.packaged, repo('daemon/assets/docker/build-local-image.sh'));
  assert.equal(BUILDER_LOCATIONS.checkout, repo('docker/build-local-image.sh'));
});

test('the packaged builder comes first and keeps its root-fs cache in the user cache directory', () => {
  const both = () => true;
  assert.deepEqual(locateBuilder({ HOME: '/home/u', ENGINE: 'docker' }, both, locations), {
    script: locations.packaged,
    env: { HOME: '/home/u', ENGINE: 'docker', MCP_CODE_MODE_CACHE: '/home/u/.cache/mcp-code-mode' },
  });
  assert.equal(locateBuilder({ HOME: '/home/u', XDG_CACHE_HOME: '/xdg' }, both, locations)?.env.MCP_CODE_MODE_CACHE, '/xdg/mcp-code-mode');
  assert.equal(locateBuilder({ HOME: '/home/u', MCP_CODE_MODE_CACHE: '/mine' }, both, locations)?.env.MCP_CODE_MODE_CACHE, '/mine');
});

test("the checkout's builder runs with the environment as given (its cache default is the repo's .state/cache)", () => {
  const env = { HOME: '/home/u' };
  assert.deepEqual(locateBuilder(env, (path) => path === locations.checkout, locations), { script: locations.checkout, env });
});

test('no builder in either place is undefined, for buildLocalImage to name both paths', () => {
  assert.equal(locateBuilder({}, () => false, locations), undefined);
});
