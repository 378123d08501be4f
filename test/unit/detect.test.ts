import assert from 'node:assert/strict';
import { test } from 'node:test';
import { detectEngine } from '../../daemon/src/runtimes/container/detect.ts';

const only = (...paths: string[]) => async (p: string) => paths.includes(p);

test('MCP_BRIDGE_RUNTIME wins, then DOCKER_HOST, then the sockets in order', async () => {
  assert.equal((await detectEngine({ runtime: '/x.sock', dockerHost: 'unix:///y.sock', exists: only() }))?.socketPath, '/x.sock');
  assert.equal((await detectEngine({ dockerHost: 'unix:///y.sock', exists: only('/var/run/docker.sock') }))?.socketPath, '/y.sock');
  const tcp = await detectEngine({ dockerHost: 'tcp://127.0.0.1:2375', exists: only() });
  assert.deepEqual([tcp?.host, tcp?.port], ['127.0.0.1', 2375]);
  assert.equal((await detectEngine({ exists: only('/var/run/docker.sock', '/run/podman/podman.sock') }))?.flavour, 'docker');
  assert.equal((await detectEngine({ exists: only('/run/podman/podman.sock') }))?.flavour, 'podman');
  const rootless = await detectEngine({ xdgRuntimeDir: '/run/user/1000', exists: only('/run/user/1000/podman/podman.sock', '/run/user/1000/docker.sock') });
  assert.equal(rootless?.socketPath, '/run/user/1000/podman/podman.sock');
  assert.equal((await detectEngine({ uid: 1000, exists: only('/run/user/1000/docker.sock') }))?.socketPath, '/run/user/1000/docker.sock');
});

test('MCP_BRIDGE_RUNTIME=podman only takes Podman sockets', async () => {
  assert.equal((await detectEngine({ runtime: 'podman', exists: only('/var/run/docker.sock', '/run/podman/podman.sock') }))?.socketPath, '/run/podman/podman.sock');
  assert.equal(await detectEngine({ runtime: 'podman', exists: only('/var/run/docker.sock') }), undefined);
});

test('nothing found is undefined, not a guess', async () => {
  assert.equal(await detectEngine({ exists: only() }), undefined);
});
