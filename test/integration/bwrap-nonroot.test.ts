// A daemon that is not root: bwrap runs as the daemon's own uid (no per-sandbox uid to drop to), and
// on cgroup v1 the runtime refuses to start without limits unless told to go on.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { ensureRootfs } from '../../daemon/src/runtimes/bwrap/rootfs.ts';
import { bwrapSkipReason, IMAGE, ROOTFS_CACHE } from '../support/bwrap.ts';

const skip = bwrapSkipReason();
const FIXTURE = new URL('../fixtures/bwrap-nonroot.ts', import.meta.url).pathname;
const USER = 65534; // nobody: the one unprivileged uid every Debian has

test('as an unprivileged user: refused without cgroups, then a sandbox at uid 65534 inside, none left', { skip, timeout: 120_000 }, async () => {
  const rootfs = await ensureRootfs({ cacheDir: ROOTFS_CACHE, image: IMAGE });
  const out = execFileSync('setpriv', [`--reuid=${USER}`, `--regid=${USER}`, '--clear-groups', '--', process.execPath, '--import', 'tsx', FIXTURE, rootfs.dir], {
    env: { PATH: process.env.PATH, HOME: '/tmp' },
    encoding: 'utf8',
    timeout: 90_000,
  });
  const result = JSON.parse(out.trim().split('\n').pop()!) as { refused?: string; warnings: string[]; inside: string; hostUid: number; left: unknown[] };
  assert.equal(result.hostUid, USER);
  const cgroupV1 = execFileSync('sh', ['-c', 'grep -c " - cgroup cgroup .*memory" /proc/self/mountinfo || true'], { encoding: 'utf8' }).trim() !== '0';
  if (cgroupV1) {
    assert.match(result.refused ?? '', /cgroup v1 needs the daemon to run as root.*MCP_BRIDGE_BWRAP_ALLOW_UNLIMITED=1/);
    assert.match(result.warnings.join('\n'), /WITHOUT memory, pids and CPU limits/);
  }
  assert.equal(result.inside, '65534 0000000000000000');
  assert.deepEqual(result.left, []);
});
