import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildSandboxSpec } from '../../daemon/src/runtimes/container/sandbox-spec.ts';

const limits = { image: 'img:1', user: '65534:65534', memoryBytes: 512 * 1024 ** 2, pids: 128, tmpfsBytes: 64 * 1024 ** 2, nofile: 1024, nproc: 4096 };

test('the hardened spec is exactly the list of sandbox defaults (docs/SECURITY.md)', () => {
  const spec = buildSandboxSpec(limits, ['python3', '-c', 'x'], { 'mcp-code-mode.owner': 'o' });
  assert.deepEqual(spec.HostConfig, {
    NetworkMode: 'none',
    ReadonlyRootfs: true,
    Tmpfs: {
      '/tmp': 'rw,noexec,nosuid,nodev,size=67108864,mode=1777',
      '/workspace': 'rw,noexec,nosuid,nodev,size=67108864,mode=1777',
      '/run': 'ro,noexec,nosuid,nodev,size=1048576,mode=755',
      '/var/tmp': 'ro,noexec,nosuid,nodev,size=1048576,mode=755',
    },
    CapDrop: ['ALL'],
    SecurityOpt: ['no-new-privileges'],
    Memory: 536870912,
    MemorySwap: 536870912,
    PidsLimit: 128,
    Ulimits: [
      { Name: 'nofile', Soft: 1024, Hard: 1024 },
      { Name: 'nproc', Soft: 4096, Hard: 4096 },
    ],
    Init: true,
    AutoRemove: false,
    IpcMode: 'private',
  });
  assert.equal(spec.User, '65534:65534');
  assert.equal(spec.NetworkDisabled, true);
  assert.equal(spec.Tty, false);
  assert.deepEqual(spec.Labels, { 'mcp-code-mode': '1', 'mcp-code-mode.owner': 'o' });
  assert.deepEqual(spec.Env, ['HOME=/tmp', 'PYTHONDONTWRITEBYTECODE=1', 'PYTHONUNBUFFERED=1', 'LANG=C.UTF-8']);
  assert.equal((spec as unknown as { HostConfig: { Binds?: unknown } }).HostConfig.Binds, undefined, 'no host path is mounted');
});

test('a seccomp profile, when given, joins no-new-privileges in SecurityOpt', () => {
  assert.deepEqual(buildSandboxSpec({ ...limits, seccomp: '{"defaultAction":"SCMP_ACT_ERRNO"}' }, [], {}).HostConfig.SecurityOpt, [
    'no-new-privileges',
    'seccomp={"defaultAction":"SCMP_ACT_ERRNO"}',
  ]);
});

test('CPUs become NanoCpus only when set', () => {
  assert.equal(buildSandboxSpec({ ...limits, cpus: 1.5 }, [], {}).HostConfig.NanoCpus, 1_500_000_000);
  assert.equal('NanoCpus' in buildSandboxSpec(limits, [], {}).HostConfig, false);
});

test('MCP_BRIDGE_OCI_RUNTIME becomes HostConfig.Runtime, and only when set', () => {
  assert.equal(buildSandboxSpec({ ...limits, ociRuntime: 'runsc' }, [], {}).HostConfig.Runtime, 'runsc');
  assert.ok(!('Runtime' in buildSandboxSpec(limits, [], {}).HostConfig));
});
