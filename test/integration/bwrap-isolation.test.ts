// Each isolation default of a container, checked from inside a running bwrap sandbox (and, for the
// host uid, from outside it while its code sleeps).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { SANDBOX_ENV } from '../../daemon/src/runtimes/bwrap/launch.ts';
import { DEFAULT_UID_RANGE } from '../../daemon/src/runtimes/bwrap/uid-claims.ts';
import { Agent, bwrapSkipReason, openTestRuntime, ROOTFS_CACHE, startAgent, TEST_LIMITS, type TestRuntime } from '../support/bwrap.ts';

const skip = bwrapSkipReason();
if (skip) console.log(`# bwrap isolation tests skipped: ${skip}`);

const NAMESPACES = ['user', 'pid', 'net', 'ipc', 'uts', 'mnt', 'cgroup'];

describe('bwrap sandbox isolation', { skip, timeout: 180_000 }, () => {
  let t: TestRuntime;
  let agent: Agent;
  const secret = `secret-${process.pid}`;
  const hostMarker = `/tmp/mcm-bwrap-host-marker-${process.pid}`;

  before(async () => {
    process.env.MCM_TEST_DAEMON_SECRET = secret;
    writeFileSync(hostMarker, 'host');
    t = await openTestRuntime();
    agent = await startAgent(t.runtime);
  });

  after(async () => {
    delete process.env.MCM_TEST_DAEMON_SECRET;
    rmSync(hostMarker, { force: true });
    if (agent) await t.runtime.remove(agent.sandbox.id);
    await t?.runtime.close();
  });

  const py = async (code: string): Promise<string> => {
    const { stdout, stderr, result } = await agent.run(code);
    assert.equal(result.status, 'success', `${result.error?.type}: ${result.error?.message}\n${stderr}`);
    return stdout.trim();
  };

  test('the runtime names itself', () => {
    const info = t.runtime.info();
    assert.equal(info.kind, 'bwrap');
    assert.match(info.version, /^\d+\.\d+/);
    assert.match(info.image, /^mcp-code-mode\/sandbox:local \(.*rootfs-/);
  });

  test('every namespace is new: user, pid, network, ipc, uts, mount, cgroup', async () => {
    const inside = JSON.parse(await py(`import os, json; print(json.dumps({n: os.readlink('/proc/self/ns/' + n) for n in ${JSON.stringify(NAMESPACES)}}))`)) as Record<string, string>;
    for (const ns of NAMESPACES) assert.notEqual(inside[ns], readlinkSync(`/proc/self/ns/${ns}`), `${ns} namespace is the host's`);
    assert.equal(await py('import socket; print(socket.gethostname())'), 'sandbox');
    // The agent is the child of the sandbox's init (packages/sandbox/init.py), pid 1: no bwrap process inside.
    assert.equal(await py('import os; print(os.getpid(), os.getppid())'), '2 1');
  });

  test('uid and gid 65534, no capabilities, no_new_privs, the seccomp filter on', async () => {
    assert.equal(await py('import os; print(os.getuid(), os.geteuid(), os.getgid(), os.getegid(), os.getgroups())'), '65534 65534 65534 65534 []');
    const status = Object.fromEntries(
      (await py("print(open('/proc/self/status').read())")).split('\n').map((line) => line.split(':\t').map((s) => s.trim()) as [string, string]),
    );
    for (const cap of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) assert.equal(status[cap], '0000000000000000', cap);
    assert.equal(status.NoNewPrivs, '1');
    assert.equal(status.Seccomp, '2');
  });

  test('a clean environment: nothing from the daemon', async () => {
    const env = JSON.parse(await py('import os, json; print(json.dumps(dict(os.environ)))')) as Record<string, string>;
    // Not even PWD, which bwrap sets after --chdir: the sandbox's init leaves it out of the agent's.
    assert.deepEqual(env, { ...SANDBOX_ENV });
    assert.ok(!JSON.stringify(env).includes(secret));
  });

  test('network: loopback only', async () => {
    assert.equal(await py("print(sorted(l.split(':')[0].strip() for l in open('/proc/net/dev').readlines()[2:]))"), "['lo']");
    const out = await py(`
import socket
s = socket.socket(); s.settimeout(2)
try:
    s.connect(('1.1.1.1', 53)); print('connected')
except OSError as e:
    print(type(e).__name__, e.errno)
srv = socket.socket(); srv.bind(('127.0.0.1', 0)); srv.listen(); c = socket.create_connection(srv.getsockname()); print('loopback ok')
`);
    assert.match(out, /^OSError 101\nloopback ok$/); // ENETUNREACH
  });

  test('read-only root with /workspace; /tmp, /workspace and /dev/shm sized tmpfs; no host path visible', async () => {
    assert.equal(await py("import os\ntry:\n    open('/usr/x', 'w')\nexcept OSError as e:\n    print(e.errno)"), '30'); // EROFS
    assert.equal(await py("import os; print(os.getcwd())"), '/workspace');
    for (const dir of ['/tmp', '/workspace', '/dev/shm']) {
      const [size, written] = (await py(`
import os
st = os.statvfs('${dir}')
n = 0
try:
    with open('${dir}/fill', 'wb') as f:
        while True:
            f.write(b'x' * 1048576); f.flush(); n += 1
except OSError as e:
    pass
os.remove('${dir}/fill')
print(st.f_blocks * st.f_frsize, n)
`)).split(' ').map(Number);
      assert.equal(size, TEST_LIMITS.tmpfsBytes, `${dir} size`);
      assert.ok(written! <= TEST_LIMITS.tmpfsBytes / 1048576, `${dir} took ${written} MiB`);
    }
    const mounts = (await py("print('\\n'.join(l.split()[4] for l in open('/proc/self/mountinfo')))")).split('\n');
    const extra = mounts.filter((m) => !['/', '/proc', '/dev', '/tmp', '/workspace'].includes(m) && !m.startsWith('/dev/') && !m.startsWith('/proc/'));
    assert.deepEqual(extra, [], 'unexpected mounts');
    assert.equal(await py(`import os; print(os.path.exists('${hostMarker}'), os.path.exists('${ROOTFS_CACHE}'), os.path.exists('/.dockerenv'))`), 'False False False');
    // No fd into the host (the rootfs fd and the seccomp fd are bwrap's, closed before the agent).
    const fds = await py("import os\nfor f in os.listdir('/proc/self/fd'):\n    try:\n        print(os.readlink('/proc/self/fd/' + f))\n    except OSError:\n        pass");
    assert.deepEqual(fds.split('\n').filter((l) => l && !/^(pipe|socket|anon_inode):/.test(l) && l !== '/dev/null'), []);
  });

  test('/tmp, /workspace and /dev/shm are not executable (Landlock); the root is', async () => {
    const out = await py(`
import os, shutil, subprocess
print(subprocess.run(['/usr/bin/true']).returncode)
for d in ('/tmp', '/workspace', '/dev/shm'):
    for name, make in (('script', lambda p: open(p, 'w').write('#!/bin/sh\\necho ran\\n')), ('binary', lambda p: shutil.copy('/usr/bin/true', p))):
        p = d + '/' + name
        make(p); os.chmod(p, 0o755)
        try:
            subprocess.run([p]); print(d, name, 'ran')
        except PermissionError:
            print(d, name, 'refused')
`);
    assert.deepEqual(out.split('\n'), ['0', ...['/tmp', '/workspace', '/dev/shm'].flatMap((d) => [`${d} script refused`, `${d} binary refused`])]);
  });

  test('the seccomp filter refuses namespaces, mounts, keyctl, ptrace, bpf; clone3 is ENOSYS; fork and threads work', async () => {
    const out = await py(`
import ctypes, os, threading
libc = ctypes.CDLL(None, use_errno=True)
def call(nr, *args):
    r = libc.syscall(ctypes.c_long(nr), *[ctypes.c_long(a) for a in args])
    return 0 if r >= 0 else ctypes.get_errno()
print('unshare', call(272, 0x10000000))
print('mount', call(165, 0, 0, 0, 0, 0))
print('keyctl', call(250, 0, 0))
print('ptrace', call(101, 0, 0, 0, 0))
print('bpf', call(321, 0, 0, 0))
print('clone3', call(435, 0, 0))
print('clone newns', call(56, 0x00020000 | 17, 0, 0, 0, 0))
pid = os.fork()
if pid == 0:
    os._exit(7)
print('fork', os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
t = threading.Thread(target=lambda: None); t.start(); t.join(); print('thread ok')
`);
    assert.deepEqual(out.split('\n'), ['unshare 1', 'mount 1', 'keyctl 1', 'ptrace 1', 'bpf 1', 'clone3 38', 'clone newns 1', 'fork 7', 'thread ok']);
  });

  test('from the host, the sleeping code runs as a non-zero uid of the range that cannot read /etc/shadow', async () => {
    agent.start('import time; time.sleep(30)');
    {
      const [dir] = t.runtime.resources(agent.sandbox.id)!.cgroups.filter((d) => d.includes('/pids/'));
      assert.ok(dir, 'no pids cgroup');
      const procs = readFileSync(`${dir}/cgroup.procs`, 'utf8').trim().split('\n').map(Number);
      const python = procs.filter((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('python3'));
      assert.ok(python.length >= 1, `no python among ${procs.join(', ')}`);
      // The launcher (unshare, outside every namespace of the sandbox) stays root to reap bwrap; every other process is the sandbox's.
      const launcher = t.runtime.resources(agent.sandbox.id)!.pid;
      assert.equal(readFileSync(`/proc/${launcher}/comm`, 'utf8').trim(), 'unshare');
      const uids = new Set(procs.filter((pid) => pid !== launcher).map((pid) => Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1])));
      assert.equal(uids.size, 1, `several host uids: ${[...uids].join(', ')}`);
      const [uid] = [...uids];
      assert.ok(uid! >= DEFAULT_UID_RANGE.base && uid! < DEFAULT_UID_RANGE.base + DEFAULT_UID_RANGE.count, `host uid ${uid}`);
      const shadow = spawnSync('setpriv', [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', 'cat', '/etc/shadow'], { encoding: 'utf8' });
      assert.notEqual(shadow.status, 0);
      assert.match(shadow.stderr, /Permission denied/);
      // The memory, swap and pids limits are on its cgroup.
      const memory = t.runtime.resources(agent.sandbox.id)!.cgroups.find((d) => d.includes('/memory/'))!;
      assert.equal(Number(readFileSync(`${memory}/memory.limit_in_bytes`, 'utf8')), TEST_LIMITS.memoryBytes);
      assert.equal(Number(readFileSync(`${memory}/memory.memsw.limit_in_bytes`, 'utf8')), TEST_LIMITS.memoryBytes);
      assert.equal(Number(readFileSync(`${dir}/pids.max`, 'utf8')), TEST_LIMITS.pids);
      const limits = readFileSync(`/proc/${python[0]}/limits`, 'utf8');
      assert.match(limits, new RegExp(`^Max processes\\s+${TEST_LIMITS.nproc}\\s+${TEST_LIMITS.nproc}\\s`, 'm'));
      assert.match(limits, /^Max open files\s+1024\s+1024\s/m);
    }
  });
});
