// Hostile code, escape and snooping: each case tries to leave the sandbox, change what outlives it,
// read secrets, or fool the daemon through the protocol channel. docs/SECURITY.md: ids E1...
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { availableEngines } from '../support/engines.ts';
import { CASE, DAEMON_SECRET, SERVER_SECRET, startHostileDaemon, type HostileDaemon } from '../support/hostile.ts';
import { createTestNetns, netnsAvailable } from '../support/netns.ts';

const engines = await availableEngines({ bwrap: true });

/** Finds the agent's protocol channel from inside user code: it lives in the same process. */
const CHANNEL = "import gc, os\nch = next(o for o in gc.get_objects() if type(o).__name__ == 'Channel')\n";

const json = (r: { stdout: string[] }): Record<string, unknown> => JSON.parse(r.stdout.at(-1)!);

for (const engine of engines) {
  describe(`hostile escape on ${engine.name}`, () => {
    let h: HostileDaemon;
    const run = (code: string, extra: Record<string, unknown> = {}) => h.run(code, extra);

    before(async () => {
      h = await startHostileDaemon(engine, { MCP_BRIDGE_MAX_OUTPUT_BYTES: '65536' });
    });
    after(async () => {
      await h?.dispose();
    });

    test('E1 writes outside the tmpfs mounts fail, /proc and /sys included', CASE, async () => {
      const code = `
import errno, json
targets = ["/etc/passwd", "/x", "/root/x", "/var/tmp/x", "/run/x", "/dev/x", "/usr/local/bin/x", "/proc/sysrq-trigger",
           "/proc/sys/kernel/hostname", "/proc/sys/kernel/core_pattern", "/sys/kernel/uevent_helper",
           "/sys/fs/cgroup/release_agent", "/sys/fs/cgroup/memory/release_agent", "/sys/fs/cgroup/cgroup.procs"]
out = {}
for path in targets:
    try:
        with open(path, "a") as f:
            f.write("x")
        out[path] = "written"
    except OSError as e:
        out[path] = errno.errorcode[e.errno]
open("/tmp/ok", "w").write("fine")
open("/workspace/ok", "w").write("fine")
print(json.dumps(out))`;
      const r = await run(code);
      assert.equal(r.status, 'success', JSON.stringify(r));
      for (const [path, outcome] of Object.entries(json(r))) assert.ok(['EROFS', 'EACCES', 'EPERM', 'ENOENT'].includes(outcome as string), `${path}: ${outcome}`);
      await h.recovered();
    });

    test('E2 the image cannot be changed: stdlib, interpreter, sitecustomize, modes', CASE, async () => {
      const code = `
import errno, json, os, sys, sysconfig
out = {}
def attempt(name, fn):
    try:
        fn(); out[name] = "changed"
    except OSError as e:
        out[name] = errno.errorcode[e.errno]
attempt("os.py", lambda: open(os.__file__, "a").write("# x"))
attempt("python3", lambda: open(sys.executable, "r+b").write(b"x"))
attempt("chmod", lambda: os.chmod(sys.executable, 0o777))
attempt("sitecustomize", lambda: open(os.path.join(sysconfig.get_paths()["purelib"], "sitecustomize.py"), "w"))
attempt("usercustomize", lambda: open(os.path.join(sysconfig.get_paths()["stdlib"], "usercustomize.py"), "w"))
attempt("rename", lambda: os.rename("/etc/hostname", "/etc/hostname2"))
print(json.dumps(out))`;
      const r = await run(code);
      assert.equal(r.status, 'success', JSON.stringify(r));
      for (const [what, outcome] of Object.entries(json(r))) assert.ok(['EROFS', 'EACCES', 'EPERM', 'ENOENT', 'EBUSY'].includes(outcome as string), `${what}: ${outcome}`);
      await h.recovered();
    });

    test('E3 nothing written to a tmpfs can be executed (noexec)', CASE, async () => {
      const code = `
import errno, json, os, subprocess
out = {}
for d in ["/tmp", "/workspace", "/dev/shm", "/run", "/var/tmp"]:
    path = d + "/evil.sh"
    try:
        with open(path, "w") as f:
            f.write("#!/bin/sh\\necho escaped\\n")
        os.chmod(path, 0o755)
        out[d] = subprocess.run([path], capture_output=True, text=True).stdout or "ran"
    except OSError as e:
        out[d] = errno.errorcode[e.errno]
print(json.dumps(out))`;
      const r = await run(code);
      assert.equal(r.status, 'success', JSON.stringify(r));
      for (const [dir, outcome] of Object.entries(json(r))) assert.ok(['EACCES', 'EPERM', 'ENOENT', 'EROFS'].includes(outcome as string), `${dir}: ${outcome}`);
      await h.recovered();
    });

    test('E4 namespaces, mount, chroot and mknod are refused, from a single-threaded child too', CASE, async () => {
      // The agent's process has threads, and unshare(CLONE_NEWUSER) fails in any threaded process
      // (EINVAL): the attempts run in a forked child, which has one thread, as an attacker would.
      const code = `
import ctypes, errno, json, os
libc = ctypes.CDLL(None, use_errno=True)
def call(fn, *args):
    ctypes.set_errno(0)
    return "ok" if fn(*args) == 0 else errno.errorcode.get(ctypes.get_errno(), str(ctypes.get_errno()))
os.makedirs("/tmp/m", exist_ok=True)
read_end, write_end = os.pipe()
if os.fork() == 0:
    out = {
        "unshare user": call(libc.unshare, 0x10000000),
        "unshare mount": call(libc.unshare, 0x00020000),
        "unshare net": call(libc.unshare, 0x40000000),
        "unshare pid": call(libc.unshare, 0x20000000),
        "unshare cgroup": call(libc.unshare, 0x02000000),
        "clone newuser": "ok" if libc.syscall(56, 0x10000000 | 17, 0, 0, 0, 0) >= 0 else errno.errorcode.get(ctypes.get_errno()),
        "setns": call(libc.setns, os.open("/proc/self/ns/net", os.O_RDONLY), 0),
        "mount tmpfs": call(libc.mount, b"none", b"/tmp/m", b"tmpfs", 0, None),
        "mount cgroup": call(libc.mount, b"cgroup", b"/tmp/m", b"cgroup", 0, b"memory"),
        "bind mount /": call(libc.mount, b"/", b"/tmp/m", None, 4096, None),
        "chroot": call(libc.chroot, b"/tmp"),
        "mknod": call(libc.mknod, b"/tmp/mem", 0o20666, (1 << 8) | 1),
    }
    os.write(write_end, json.dumps(out).encode())
    os._exit(0)
os.close(write_end)
print(os.read(read_end, 65536).decode())`;
      const r = await run(code);
      assert.equal(r.status, 'success', JSON.stringify(r));
      const out = json(r);
      // The clone probe is x86_64's syscall number; elsewhere it tried something else.
      if (process.arch !== 'x64') delete out['clone newuser'];
      // A clone with namespace flags matches no allow rule: the profile's default answer, ENOSYS.
      const clone = out['clone newuser'];
      delete out['clone newuser'];
      if (clone !== undefined) assert.ok(clone === 'EPERM' || clone === 'ENOSYS', `clone newuser: ${clone}`);
      for (const [what, outcome] of Object.entries(out)) assert.equal(outcome, 'EPERM', `${what}: ${outcome}`);
      await h.recovered();
    });

    test('E5 kernel-facing syscalls are refused: bpf, perf, keyctl, setns, modules, kexec', CASE, async () => {
      const code = `
import ctypes, errno, json, platform
numbers = {
    "x86_64": {"bpf": 321, "perf_event_open": 298, "keyctl": 250, "add_key": 248, "setns": 308, "pivot_root": 155,
               "init_module": 175, "kexec_load": 246, "open_by_handle_at": 304, "userfaultfd": 323},
    "aarch64": {"bpf": 280, "perf_event_open": 241, "keyctl": 219, "add_key": 217, "setns": 268, "pivot_root": 41,
                "init_module": 105, "kexec_load": 104, "open_by_handle_at": 265, "userfaultfd": 282},
}.get(platform.machine(), {})
libc = ctypes.CDLL(None, use_errno=True)
out = {}
for name, nr in numbers.items():
    ctypes.set_errno(0)
    result = libc.syscall(nr, 0, 0, 0, 0, 0)
    out[name] = "ok" if result >= 0 else errno.errorcode.get(ctypes.get_errno(), str(ctypes.get_errno()))
print(json.dumps(out))`;
      const r = await run(code);
      assert.equal(r.status, 'success', JSON.stringify(r));
      const outcomes = json(r);
      if (Object.keys(outcomes).length === 0) return; // an architecture without a table here
      for (const [what, outcome] of Object.entries(outcomes)) assert.equal(outcome, 'EPERM', what);
      await h.recovered();
    });

    test('E6 ptrace reaches only the sandbox\'s own processes', CASE, async () => {
      const code = `
import ctypes, json, os
libc = ctypes.CDLL(None, use_errno=True)
names = {}
for pid in sorted(int(p) for p in os.listdir("/proc") if p.isdigit()):
    try:
        names[pid] = os.path.basename(open("/proc/%d/cmdline" % pid, "rb").read().split(b"\\0")[0].decode())
    except OSError:
        pass
# PTRACE_ATTACH to the container's init: it runs as the same user inside the same namespaces, so
# this may work, and reaches nothing the code could not already reach.
attached = libc.ptrace(16, 1, None, None) == 0
if attached:
    import time; time.sleep(0.1)
    libc.ptrace(17, 1, None, None)  # PTRACE_DETACH
print(json.dumps({"names": sorted(set(names.values())), "count": len(names), "attached": attached}))`;
      const r = await run(code);
      assert.equal(r.status, 'success', JSON.stringify(r));
      const { names, count } = json(r) as { names: string[]; count: number };
      // Only an init process and the agent's python: no process of the host or of another sandbox.
      for (const name of names) assert.match(name, /^(docker-init|podman-init|catatonit|tini|init|python3(\.\d+)?)$/, `a foreign process is visible: ${name}`);
      assert.ok(count <= 4, `${count} processes visible`);
      await h.recovered();
    });

    test('E7 no way to root: setuid calls, setuid binaries, capabilities', CASE, async () => {
      const code = `
import errno, json, os, shutil, subprocess
open("/tmp/f", "w").close()
out = {}
for name, fn in [("setuid", lambda: os.setuid(0)), ("seteuid", lambda: os.seteuid(0)), ("setgid", lambda: os.setgid(0)),
                 ("setgroups", lambda: os.setgroups([0])), ("chown", lambda: os.chown("/tmp/f", 0, 0))]:
    try:
        fn(); out[name] = "ok"
    except OSError as e:
        out[name] = errno.errorcode[e.errno]
su = shutil.which("su")
if su:
    done = subprocess.run([su, "-c", "id -u", "root"], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    out["su"] = [done.returncode, done.stdout.strip()]
status = dict(l.split(":\\t", 1) for l in open("/proc/self/status").read().splitlines() if ":\\t" in l)
out["euid"] = os.geteuid()
out["CapEff"] = status["CapEff"].strip(); out["CapBnd"] = status["CapBnd"].strip()
out["NoNewPrivs"] = status["NoNewPrivs"].strip(); out["Seccomp"] = status["Seccomp"].strip()
out["uid_map"] = open("/proc/self/uid_map").read().split(); out["gid_map"] = open("/proc/self/gid_map").read().split()
print(json.dumps(out))`;
      const r = await run(code);
      assert.equal(r.status, 'success', JSON.stringify(r));
      const out = json(r) as Record<string, unknown>;
      // On bwrap the sandbox is a user namespace that maps its own uid and gid (65534) and nothing
      // else: uid and gid 0 do not exist there, so the kernel refuses to name them (EINVAL) before it
      // asks for a capability (EPERM). Just as safe: no call can become an id the namespace lacks, and
      // the map below is checked to be that one id. A container has no such namespace: EPERM only.
      const refused = engine.name === 'bwrap' ? ['EPERM', 'EINVAL'] : ['EPERM'];
      if (engine.name === 'bwrap') {
        for (const map of ['uid_map', 'gid_map']) {
          const fields = out[map] as string[];
          assert.ok(fields.length === 3 && fields[0] === '65534' && fields[2] === '1', `${map} maps 65534 alone: ${fields.join(' ')}`);
        }
      }
      for (const call of ['setuid', 'seteuid', 'setgid', 'setgroups', 'chown']) assert.ok(refused.includes(out[call] as string), `${call}: ${String(out[call])}`);
      if (out.su) assert.notEqual((out.su as [number, string])[0], 0, `su succeeded: ${JSON.stringify(out.su)}`);
      assert.equal(out.euid, 65534);
      assert.equal(out.CapEff, '0000000000000000');
      assert.equal(out.CapBnd, '0000000000000000');
      assert.equal(out.NoNewPrivs, '1');
      assert.equal(out.Seccomp, '2');
      await h.recovered();
    });

    test('E8 no secret of the daemon or of an MCP server is anywhere in the sandbox', CASE, async () => {
      // The needles are the secrets' prefixes, assembled at run time so the code does not carry them.
      const code = `
import gc, json, os
needles = ["".join(["daemon", "-secret-"]), "".join(["server", "-secret-"])]
hits = []
def check(where, text):
    for needle in needles:
        if needle in text and text != needle:
            hits.append(where)
for key, value in os.environ.items():
    check("env " + key, key + "=" + value)
for pid in [p for p in os.listdir("/proc") if p.isdigit()]:
    for name in ("environ", "cmdline"):
        try:
            check("/proc/%s/%s" % (pid, name), open("/proc/%s/%s" % (pid, name), "rb").read().decode("utf-8", "replace"))
        except OSError:
            pass
for obj in gc.get_objects():
    items = obj.values() if isinstance(obj, dict) else obj if isinstance(obj, (list, tuple)) else ()
    for item in list(items):
        if isinstance(item, str):
            check("memory", item)
files = 0
for root, dirs, names in os.walk("/"):
    if root == "/":
        dirs[:] = [d for d in dirs if d not in ("proc", "sys", "dev")]
    for name in names:
        path = os.path.join(root, name)
        try:
            if os.path.isfile(path) and os.path.getsize(path) < 4 * 1024 * 1024:
                files += 1
                check(path, open(path, "rb").read().decode("latin-1"))
        except OSError:
            pass
print(json.dumps({"hits": hits, "files": files, "env": sorted(os.environ)}))`;
      const r = await run(code, { servers: ['hostile'], timeout: 120 });
      assert.equal(r.status, 'success', JSON.stringify(r));
      const out = json(r) as { hits: string[]; files: number; env: string[] };
      assert.deepEqual(out.hits, []);
      assert.ok(out.files > 500, `scanned ${out.files} files`);
      // Only the spec's variables, and what the engine itself always adds (Podman: TERM, container).
      for (const name of out.env) assert.ok(['HOME', 'HOSTNAME', 'LANG', 'PATH', 'PYTHONDONTWRITEBYTECODE', 'PYTHONUNBUFFERED', 'TERM', 'container'].includes(name), name);
      const everything = JSON.stringify(r);
      assert.ok(!everything.includes(DAEMON_SECRET) && !everything.includes(SERVER_SECRET));
      await h.recovered();
    });

    test('E9 no engine socket, no writable host path, no host device in the sandbox', CASE, async () => {
      const code = `
import json, os
sockets = [p for p in ["/var/run/docker.sock", "/run/docker.sock", "/run/podman/podman.sock", "/run/containerd/containerd.sock"] if os.path.exists(p)]
writable_disks = []
for line in open("/proc/mounts"):
    dev, point, fstype, opts = line.split()[:4]
    if fstype not in ("proc", "tmpfs", "devpts", "mqueue", "sysfs", "cgroup", "cgroup2") and "ro" not in opts.split(","):
        if fstype == "devtmpfs":
            rdev = os.stat(point).st_rdev
            point += " %d:%d" % (os.major(rdev), os.minor(rdev))
        writable_disks.append(point)
print(json.dumps({"sockets": sockets, "writable": writable_disks, "dev": sorted(os.listdir("/dev"))}))`;
      const r = await run(code);
      assert.equal(r.status, 'success', JSON.stringify(r));
      const out = json(r) as { sockets: string[]; writable: string[]; dev: string[] };
      assert.deepEqual(out.sockets, []);
      // bwrap's /dev binds the host's own nodes of the devices every container has (a container makes
      // the same devices with mknod): files of devtmpfs, one device each, checked by number here.
      const standard = ['/dev/null 1:3', '/dev/zero 1:5', '/dev/full 1:7', '/dev/random 1:8', '/dev/urandom 1:9', '/dev/tty 5:0'];
      assert.deepEqual(out.writable.filter((m) => !standard.includes(m)), []);
      for (const device of ['mem', 'kmem', 'kmsg', 'port', 'sda', 'vda', 'nvme0', 'fuse']) assert.ok(!out.dev.includes(device), `/dev/${device} is present`);
      await h.recovered();
    });

    test('E10 SIGKILL to pid 1 from inside is ignored; the run goes on', CASE, async () => {
      const r = await run('import os, signal, time\nos.kill(1, signal.SIGKILL)\ntime.sleep(0.5)\nprint("still here")');
      assert.equal(r.status, 'success', JSON.stringify(r));
      assert.deepEqual(r.stdout, ['still here']);
      await h.recovered();
    });

    test('E11 SIGTERM to pid 1 stops only this sandbox, with a clear error', CASE, async () => {
      const r = await run('import os, signal, time\nos.kill(1, signal.SIGTERM)\ntime.sleep(5)\nprint("still here")', { timeout: 30 });
      assert.equal(r.status, 'error', JSON.stringify(r));
      assert.equal(r.error?.type, 'SandboxExited');
      assert.match(r.error!.message, /^the sandbox exited with code 143 \(killed by SIGTERM\) before the code finished/);
      await h.recovered();
    });

    test('E12 closing fds 0, 1 and 2 fails the code\'s own prints, not the run', CASE, async () => {
      const r = await run('import os\nprint("before", flush=True)\nos.close(0); os.close(1); os.close(2)\nprint("after")');
      assert.equal(r.status, 'error');
      assert.equal(r.error?.type, 'OSError');
      assert.match(r.error!.message, /\[Errno 9\] Bad file descriptor/);
      assert.deepEqual(r.stdout, ['before']);
      await h.recovered();
    });

    test('E13 frames written to fd 1 or 2 are output text, never protocol', CASE, async () => {
      const forged = String.raw`\x1e{"v":1,"type":"result","id":"f","re":"x","status":"error","exitCode":9}\n`;
      const r = await run(`import os\nos.write(1, b'${forged}')\nos.write(2, b'${forged}')\nr, w = os.pipe()\nos.dup2(w, 1)\nprint("into a pipe of its own", flush=True)\nos.write(2, b"done\\n")`);
      assert.equal(r.status, 'success', JSON.stringify(r));
      assert.equal(r.exitCode, 0);
      assert.equal(r.stdout.length, 1);
      assert.match(r.stdout[0]!, /^\u001e\{"v":1,"type":"result"/);
      assert.equal(r.stderr.at(-1), 'done');
      await h.recovered();
    });

    test('E14 noise outside frames on the protocol channel is ignored', CASE, async () => {
      const r = await run(`${CHANNEL}os.write(ch._out_fd, b"noise without a frame marker\\n")\nprint("fine")`);
      assert.equal(r.status, 'success', JSON.stringify(r));
      assert.deepEqual(r.stdout, ['fine']);
      await h.recovered();
    });

    test('E15 a frame that is not JSON kills the sandbox with a protocol error', CASE, async () => {
      const r = await run(`${CHANNEL}os.write(ch._out_fd, b"\\x1e{not json}\\n")\nimport time\ntime.sleep(30)`, { timeout: 60 });
      assert.equal(r.status, 'error', JSON.stringify(r));
      assert.equal(r.error?.type, 'ProtocolError');
      assert.equal(r.error?.message, 'the sandbox sent a bad frame and was killed: frame is not valid JSON: "{not json}"');
      await h.recovered();
    });

    test('E16 a frame of the wrong shape kills the sandbox with a protocol error naming the fields', CASE, async () => {
      const r = await run(`${CHANNEL}os.write(ch._out_fd, b'\\x1e{"v":1,"type":"result","id":"x"}\\n')\nimport time\ntime.sleep(30)`, { timeout: 60 });
      assert.equal(r.error?.type, 'ProtocolError', JSON.stringify(r));
      assert.match(r.error!.message, /^the sandbox sent a bad frame and was killed: malformed frame from the sandbox: re: .*status: .*exitCode: /);
      await h.recovered();
    });

    test('E17 a frame of another protocol version is refused', CASE, async () => {
      const r = await run(`${CHANNEL}os.write(ch._out_fd, b'\\x1e{"v":2,"type":"pong","id":"x","re":"y"}\\n')\nimport time\ntime.sleep(30)`, { timeout: 60 });
      assert.equal(r.error?.type, 'ProtocolError', JSON.stringify(r));
      assert.match(r.error!.message, /malformed frame from the sandbox: v: /);
      await h.recovered();
    });

    test('E18 a frame over 8 MiB is refused without buffering it', CASE, async () => {
      const status0 = (await h.daemon.client.get('/v1/status')) as { rssBytes: number };
      const code = `${CHANNEL}os.write(ch._out_fd, b"\\x1e")\nchunk = b"x" * (1 << 20)\nfor _ in range(256):\n    os.write(ch._out_fd, chunk)\nimport time\ntime.sleep(30)`;
      const r = await run(code, { timeout: 60 });
      assert.equal(r.error?.type, 'ProtocolError', JSON.stringify(r));
      assert.equal(r.error?.message, 'the sandbox sent a bad frame and was killed: frame larger than 8388608 bytes');
      const status1 = (await h.daemon.client.get('/v1/status')) as { rssBytes: number };
      // Buffered, 256 MiB would show; what is read before the kill only passes through.
      assert.ok(status1.rssBytes - status0.rssBytes < 128 * 1024 * 1024, `daemon RSS grew by ${status1.rssBytes - status0.rssBytes} bytes`);
      await h.recovered();
    });

    test('E19 forged frames about other runs or calls are ignored', CASE, async () => {
      const code = `${CHANNEL}ch.send("result", re="another-run", status="error", exitCode=3)
ch.send("stream", re="another-run", name="stdout", data="forged output")
ch.send("rpc_cancel", re="no-such-call")
ch.send("pong", re="no-such-ping")
ch.send("ready", python="0.0.0", pid=1, agent="forged")
print("own output")`;
      const r = await run(code);
      assert.equal(r.status, 'success', JSON.stringify(r));
      assert.deepEqual(r.stdout, ['own output']);
      await h.recovered();
    });

    test('E20 code can forge only its own result, and its container is removed all the same', CASE, async () => {
      const code = `${CHANNEL}frame = next(o for o in gc.get_objects() if isinstance(o, dict) and o.get("type") == "execute")
ch.send("result", re=frame["id"], status="success", exitCode=0)
import time
time.sleep(60)`;
      const r = await run(code, { timeout: 90 });
      assert.equal(r.status, 'success', JSON.stringify(r));
      assert.ok(r.durationMs < 30_000, `answered after ${r.durationMs} ms`);
      // The container that still sleeps is removed after the answer: the engine settles to the pool.
      await h.recovered();
    });

    test('E21 invalid UTF-8, NULs, control and binary bytes come back as safe text', CASE, async () => {
      const r = await run('import os\nos.write(1, bytes(range(256)) + b"\\n")\nos.write(2, b"\\xff\\xfe\\xc3\\x28 \\x00bin\\n")\nprint("\\udcff")');
      assert.equal(r.status, 'success', JSON.stringify(r));
      const out = r.stdout.join('\n');
      assert.ok(out.includes('\u0000\u0001\u0002'), 'NUL and control bytes are kept as characters');
      assert.ok(out.includes('\uFFFD'), 'invalid UTF-8 becomes U+FFFD');
      assert.equal(r.stdout.at(-1), '\\udcff');
      assert.match(r.stderr[0]!, /^\uFFFD\uFFFD\uFFFD\( \u0000bin$/);
      // The rendered text for the model is valid JSON/TOON text.
      const { text } = await h.daemon.client.run({ code: 'import os\nos.write(1, b"\\xff\\x00\\x1b[31m")', outputMode: 'json' });
      assert.doesNotThrow(() => JSON.parse(text.replace(/^```json\n|\n```$/g, '')));
      await h.recovered();
    });

    test('E22 network: only its own loopback; an address the host reaches stays unreachable', CASE, async (t) => {
      const ns = netnsAvailable() ? await createTestNetns() : undefined;
      if (!ns) t.diagnostic('no network namespace could be created here: only the loopback part runs');
      try {
        const target = ns ? `("${ns.address}", ${ns.port})` : 'None';
        const code = `
import errno, json, socket
out = {"ifaces": sorted(name for _, name in socket.if_nameindex()), "routes": open("/proc/net/route").read().splitlines()[1:]}
def attempt(name, fn):
    try:
        fn(); out[name] = "ok"
    except OSError as e:
        out[name] = errno.errorcode.get(e.errno, str(e.errno))
target = ${target}
if target:
    attempt("tcp", lambda: socket.create_connection(target, timeout=3))
    attempt("udp", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", target))
attempt("raw", lambda: socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP))
attempt("packet", lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0))
server = socket.socket(); server.bind(("127.0.0.1", 0)); server.listen()
client = socket.create_connection(server.getsockname(), timeout=3)
conn, _ = server.accept(); conn.sendall(b"own loopback")
out["loopback"] = client.recv(64).decode()
print(json.dumps(out))`;
        const r = await run(code, { timeout: 60 });
        assert.equal(r.status, 'success', JSON.stringify(r));
        const out = json(r) as Record<string, unknown>;
        assert.deepEqual(out.ifaces, ['lo']);
        assert.deepEqual(out.routes, []);
        if (ns) {
          assert.equal(out.tcp, 'ENETUNREACH');
          assert.equal(out.udp, 'ENETUNREACH');
        }
        assert.equal(out.raw, 'EPERM');
        assert.equal(out.packet, 'EPERM');
        assert.equal(out.loopback, 'own loopback');
      } finally {
        await ns?.close();
      }
      await h.recovered();
    });

    test('E23 network: the host\'s abstract Unix sockets are out of reach', CASE, async () => {
      const name = `mcm-hostile-${randomBytes(4).toString('hex')}`;
      let reached = 0;
      const server = createServer((s) => {
        reached++;
        s.end('reached\n');
      });
      await new Promise<void>((resolve) => server.listen({ path: `\0${name}` }, resolve));
      try {
        const code = `
import errno, socket
s = socket.socket(socket.AF_UNIX)
try:
    s.connect("\\0${name}"); print("connected")
except OSError as e:
    print(errno.errorcode[e.errno])`;
        const r = await run(code);
        assert.equal(r.status, 'success', JSON.stringify(r));
        assert.deepEqual(r.stdout, ['ECONNREFUSED']);
        assert.equal(reached, 0);
      } finally {
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
      await h.recovered();
    });
  });
}
