import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bwrapArgs, JOIN_CGROUPS_SCRIPT, launcherArgv, SANDBOX_ENV, withInit, withNoexecPrelude } from '../../daemon/src/runtimes/bwrap/launch.ts';

test('bwrap gets every namespace, the command as pid 1, a read-only root and /dev, sized tmpfs, a clean environment and the seccomp fd', () => {
  assert.deepEqual(bwrapArgs({ rootfs: '/var/cache/r', tmpfsBytes: 65536, command: ['python3', '-c', 'x'] }), [
    '--unshare-user', '--unshare-pid', '--as-pid-1', '--unshare-net', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup', '--disable-userns',
    '--uid', '65534', '--gid', '65534', '--hostname', 'sandbox',
    '--ro-bind', '/var/cache/r', '/',
    '--proc', '/proc', '--dev', '/dev',
    '--size', '65536', '--tmpfs', '/tmp',
    '--size', '65536', '--tmpfs', '/workspace',
    '--size', '65536', '--tmpfs', '/dev/shm',
    '--remount-ro', '/dev',
    '--chdir', '/',
    '--clearenv',
    '--setenv', 'PATH', SANDBOX_ENV.PATH, '--setenv', 'HOME', '/tmp', '--setenv', 'LANG', 'C.UTF-8',
    '--setenv', 'PYTHONDONTWRITEBYTECODE', '1', '--setenv', 'PYTHONUNBUFFERED', '1',
    '--die-with-parent', '--new-session',
    '--seccomp', '3',
    '--', 'python3', '-c', 'x',
  ]);
});

test('bad sizes and an empty command are refused, naming the variable', () => {
  assert.throws(() => bwrapArgs({ rootfs: '/r', tmpfsBytes: 10, command: ['x'] }), /MCP_BRIDGE_TMPFS_SIZE/);
  assert.throws(() => bwrapArgs({ rootfs: '/r', tmpfsBytes: 65536, command: [] }), /empty/);
  assert.throws(() => launcherArgv({ procsFiles: [], nofile: 0, nproc: 1, bwrap: 'b', bwrapArgs: [] }), /MCP_BRIDGE_NOFILE/);
});

test('as root, the launcher joins the cgroups, sets the rlimits, and drops to the sandbox uid inside a pid namespace of its own', () => {
  assert.deepEqual(launcherArgv({ procsFiles: ['/cg/m/cgroup.procs', '/cg/p/cgroup.procs'], uid: 200007, nofile: 1024, nproc: 64, bwrap: '/usr/bin/bwrap', bwrapArgs: ['--x'] }), [
    '/bin/sh', '-c', JOIN_CGROUPS_SCRIPT, 'sh', '2', '/cg/m/cgroup.procs', '/cg/p/cgroup.procs',
    'prlimit', '--nofile=1024:1024', '--nproc=64:64', '--core=0:0', '--',
    'setpriv', '--pdeathsig=KILL', '--',
    'unshare', '--pid', '--fork', '--kill-child=SIGKILL', '--',
    'setpriv', '--reuid=200007', '--regid=200007', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', '--no-new-privs', '--',
    '/usr/bin/bwrap', '--x',
  ]);
});

test('not root, the launcher keeps the daemon uid (so no RLIMIT_NPROC: it would count the user) and goes straight to bwrap', () => {
  assert.deepEqual(launcherArgv({ procsFiles: [], nofile: 8, nproc: 9, bwrap: 'bwrap', bwrapArgs: [] }), [
    '/bin/sh', '-c', JOIN_CGROUPS_SCRIPT, 'sh', '0', 'prlimit', '--nofile=8:8', '--core=0:0', '--', 'bwrap',
  ]);
});

test('the Landlock prelude goes in front of the bootstrap, which becomes its first argument', () => {
  assert.deepEqual(withNoexecPrelude(['python3', '-I', '-u', '-c', 'BOOT', 'BUNDLE'], 'PRELUDE'), ['python3', '-I', '-u', '-c', 'PRELUDE', 'BOOT', 'BUNDLE']);
  assert.throws(() => withNoexecPrelude(['python3', 'x.py'], 'P'), /does not run a -c program/);
});

test('the init runs the agent command as its child, and the prelude goes in front of both', () => {
  const agent = ['python3', '-I', '-u', '-c', 'BOOT', 'BUNDLE'];
  assert.deepEqual(withInit(agent, 'INIT'), ['python3', '-I', '-S', '-c', 'INIT', ...agent]);
  assert.deepEqual(withNoexecPrelude(withInit(agent, 'INIT'), 'PRELUDE'), ['python3', '-I', '-S', '-c', 'PRELUDE', 'INIT', ...agent]);
  assert.throws(() => withInit([], 'INIT'), /empty/);
});
