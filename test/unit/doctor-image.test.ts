import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runDoctor, type DoctorDeps } from '../../packages/cli/src/doctor.ts';

/** A doctor with an engine that holds `images` (tag -> labels), and no daemon running. */
function doctor(env: Record<string, string>, images: Record<string, Record<string, string>>): DoctorDeps {
  return {
    env: { MCP_BRIDGE_STATE_DIR: '/state', ...env },
    uid: 1000,
    cwd: '/work',
    detect: async () => ({ flavour: 'docker', socketPath: '/var/run/docker.sock', source: 'the Docker socket' }),
    engine: () => ({ ping: async () => undefined, version: async () => ({ name: 'docker', version: '26.1', apiVersion: '1.45' }), imageLabels: async (ref: string) => images[ref], runtimes: async () => ['runc'] }),
    stat: async () => undefined,
    daemonStatus: async () => undefined,
    configProblems: async () => [],
  };
}

const image = async (deps: DoctorDeps) => (await runDoctor(deps)).find((c) => c.name === 'image')!;

test('doctor lists what the image holds: profile, extra packages and pip packages, from its labels', async () => {
  const labels = { 'mcp-code-mode.profile': 'data', 'mcp-code-mode.extra-packages': 'jq', 'mcp-code-mode.pip-packages': 'tinypkg==0.1' };
  const data = await image(doctor({ MCP_BRIDGE_IMAGE_PROFILE: 'data' }, { 'mcp-code-mode/sandbox:data': labels }));
  assert.deepEqual([data.status, data.detail], ['ok', 'mcp-code-mode/sandbox:data is present: profile data; extra packages: jq; pip packages: tinypkg==0.1']);
  // The base chain: python:3.12-slim as is (no labels of ours), the local image with its contents.
  const slim = await image(doctor({}, { 'python:3.12-slim': {} }));
  assert.equal(slim.detail, 'python:3.12-slim is present');
  const local = await image(doctor({}, { 'mcp-code-mode/sandbox:local': { 'mcp-code-mode.profile': 'base' } }));
  assert.equal(local.detail, 'python:3.12-slim is absent; the local image mcp-code-mode/sandbox:local is used: profile base; extra packages: none; pip packages: none');
});

test('doctor: a profile or derived image not built yet is a failure with the command that builds it', async () => {
  const missing = await image(doctor({ MCP_BRIDGE_EXTRA_PACKAGES: 'jq', MCP_BRIDGE_IMAGE_PROFILE: 'data' }, { 'mcp-code-mode/sandbox:data': { 'mcp-code-mode.profile': 'data' } }));
  assert.equal(missing.status, 'fail');
  assert.match(missing.detail, /^mcp-code-mode\/sandbox:data-user-[0-9a-f]{12} \(profile data with your packages\) is not built yet$/);
  assert.match(missing.fix!, /mcp-code-mode image ensure/);
  // MCP_BRIDGE_IMAGE wins over the profile.
  const named = await image(doctor({ MCP_BRIDGE_IMAGE: 'mine:1', MCP_BRIDGE_IMAGE_PROFILE: 'data' }, { 'mine:1': {} }));
  assert.deepEqual([named.status, named.detail], ['ok', 'mine:1 is present']);
});
