import assert from 'node:assert/strict';
import { test } from 'node:test';
import { detectCgroupLayout, limitWrites, parseProcCgroup } from '../../daemon/src/runtimes/bwrap/cgroups.ts';

// This machine's kind: cgroup v1 hybrid, the daemon in a memory cgroup of its parent's.
const HYBRID_MOUNTS = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw`;
const HYBRID_SELF = '8:pids:/\n4:memory:/process_api/abc\n1:cpu:/\n0::/\n';
const V2_MOUNTS = '30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate';

test('/proc/self/cgroup is read per controller', () => {
  assert.deepEqual([...parseProcCgroup('12:cpu,cpuacct:/a\n0::/b\n')], [['cpu', '/a'], ['cpuacct', '/a'], ['', '/b']]);
});

test('v1 (hybrid): sandbox cgroups go under the daemon own cgroup of each controller, as root only', async () => {
  assert.deepEqual(await detectCgroupLayout({ mountinfo: HYBRID_MOUNTS, procCgroup: HYBRID_SELF, isRoot: true, needCpu: false }), {
    version: 1,
    parents: { memory: '/sys/fs/cgroup/memory/process_api/abc/mcp-code-mode-bwrap', pids: '/sys/fs/cgroup/pids/mcp-code-mode-bwrap', cpu: '/sys/fs/cgroup/cpu/mcp-code-mode-bwrap' },
  });
  const refused = await detectCgroupLayout({ mountinfo: HYBRID_MOUNTS, procCgroup: HYBRID_SELF, isRoot: false, needCpu: false });
  assert.match((refused as { unusable: string }).unusable, /needs the daemon to run as root/);
});

test('v1 with MCP_BRIDGE_CPUS but no cpu controller is refused', async () => {
  const mounts = HYBRID_MOUNTS.split('\n').filter((l) => !l.includes('/cpu ')).join('\n');
  assert.match(((await detectCgroupLayout({ mountinfo: mounts, procCgroup: HYBRID_SELF, isRoot: true, needCpu: true })) as { unusable: string }).unusable, /MCP_BRIDGE_CPUS/);
});

test('v2: our own cgroup at the top as root, a delegated one otherwise, and the controllers must be there', async () => {
  const controllers = async () => 'cpuset cpu io memory pids';
  assert.deepEqual(await detectCgroupLayout({ mountinfo: V2_MOUNTS, procCgroup: '0::/init.scope\n', isRoot: true, needCpu: true, v2Controllers: controllers }), { version: 2, parent: '/sys/fs/cgroup/mcp-code-mode-bwrap' });
  const delegated = '/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/mcm.scope/sandboxes';
  assert.deepEqual(await detectCgroupLayout({ mountinfo: V2_MOUNTS, procCgroup: '0::/x\n', isRoot: false, delegated, needCpu: false, v2Controllers: controllers }), { version: 2, parent: delegated });
  const notDelegated = await detectCgroupLayout({ mountinfo: V2_MOUNTS, procCgroup: '0::/x\n', isRoot: false, needCpu: false, v2Controllers: controllers });
  assert.match((notDelegated as { unusable: string }).unusable, /MCP_BRIDGE_BWRAP_CGROUP/);
  const noPids = await detectCgroupLayout({ mountinfo: V2_MOUNTS, procCgroup: '0::/\n', isRoot: true, needCpu: false, v2Controllers: async () => 'memory' });
  assert.match((noPids as { unusable: string }).unusable, /controllers pids are not available/);
});

test('the limit files: memory with no swap, pids, CPU quota', () => {
  const limits = { memoryBytes: 512 * 1024 * 1024, pids: 128, cpus: 1.5 };
  assert.deepEqual(limitWrites(1, limits).map((w) => `${w.file}=${w.value}`), [
    'memory.limit_in_bytes=536870912',
    'memory.memsw.limit_in_bytes=536870912',
    'pids.max=128',
    'cpu.cfs_period_us=100000',
    'cpu.cfs_quota_us=150000',
  ]);
  assert.deepEqual(limitWrites(1, { ...limits, cpus: undefined }, false).map((w) => `${w.file}=${w.value}`), ['memory.limit_in_bytes=536870912', 'memory.swappiness=0', 'pids.max=128']);
  assert.deepEqual(limitWrites(2, limits).map((w) => `${w.file}=${w.value}`), ['memory.max=536870912', 'memory.swap.max=0', 'pids.max=128', 'cpu.max=150000 100000']);
});
