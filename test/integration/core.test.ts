import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { RunResult } from '@mcp-code-mode/protocol';
import { availableEngines, bwrapRecords, leftoversOf, sandboxesOf } from '../support/engines.ts';
import { CLI, startDaemonProcess, waitWarm, type DaemonHandle } from '../support/daemon-process.ts';
import { eventually } from '../support/poll.ts';

// On every runtime, bwrap included.
const engines = await availableEngines({ bwrap: true });

for (const engine of engines) {
  describe(`core on ${engine.name}`, () => {
    let daemon: DaemonHandle;
    const run = async (code: string, extra: Record<string, unknown> = {}): Promise<RunResult> => (await daemon.client.run({ code, ...extra })).result;

    before(async () => {
      daemon = await startDaemonProcess(engine, { MCP_BRIDGE_MAX_OUTPUT_BYTES: '4096' });
      await waitWarm(daemon.client, 2);
    });
    after(async () => {
      await daemon?.[Symbol.asyncDispose]();
    });

    test('print(6*7) gives 42, and stdout and stderr stay apart', async () => {
      const r = await run('import sys\nprint(6*7)\nprint("oops", file=sys.stderr)');
      assert.equal(r.status, 'success', JSON.stringify(r));
      assert.equal(r.exitCode, 0);
      assert.deepEqual(r.stdout, ['42']);
      assert.deepEqual(r.stderr, ['oops']);
    });

    test('an exception is an error with its traceback', async () => {
      const r = await run('def f():\n    return 1/0\nf()');
      assert.equal(r.status, 'error');
      assert.equal(r.exitCode, 1);
      assert.equal(r.error?.type, 'ZeroDivisionError');
      assert.match(r.error?.traceback ?? '', /File "<run_python>", line 2, in f/);
      assert.doesNotMatch(r.error?.traceback ?? '', /mcp_agent/);
    });

    test('a syntax error is reported as such', async () => {
      const r = await run('print("unclosed"');
      assert.equal(r.status, 'error');
      assert.equal(r.error?.type, 'SyntaxError');
      assert.match(r.summary, /SyntaxError/);
    });

    test('sys.exit(3) gives exitCode 3', async () => {
      const r = await run('import sys\nprint("bye")\nsys.exit(3)');
      assert.equal(r.status, 'error');
      assert.equal(r.exitCode, 3);
      assert.deepEqual(r.stdout, ['bye']);
    });

    test('top-level await works', async () => {
      const r = await run('import asyncio\nawait asyncio.sleep(0.01)\nprint("awaited")');
      assert.deepEqual([r.status, r.stdout], ['success', ['awaited']]);
    });

    test('every sandbox default holds inside the container', async () => {
      const code = `
import os, socket, json
out = {}
out["uid"] = os.getuid(); out["gid"] = os.getgid()
out["ifaces"] = sorted(name for _, name in socket.if_nameindex())
try:
    open("/etc/probe", "w"); out["rootfs"] = "writable"
except OSError as e:
    out["rootfs"] = e.errno
mounts = {l.split()[1]: l.split()[3] for l in open("/proc/mounts")}
out["root_opts"] = mounts["/"].split(",")
out["tmp_opts"] = mounts["/tmp"].split(",")
out["ws_opts"] = mounts["/workspace"].split(",")
import shutil, subprocess
for d in ("/tmp", "/workspace"):
    exe = d + "/probe-exec"
    shutil.copy("/bin/true", exe); os.chmod(exe, 0o755)
    try:
        subprocess.run([exe]); out["exec" + d] = "ran"
    except OSError as e:
        out["exec" + d] = e.errno
status = dict(l.split(":\\t", 1) for l in open("/proc/self/status").read().splitlines() if ":\\t" in l)
out["capeff"] = status["CapEff"].strip(); out["capbnd"] = status["CapBnd"].strip()
out["nonewprivs"] = status.get("NoNewPrivs", "").strip()
def cg(*names):
    # cgroup v2 names first, then cgroup v1 ones.
    for name in names:
        try: return open("/sys/fs/cgroup/" + name).read().strip()
        except OSError: pass
    return None
out["pids_max"] = cg("pids.max", "pids/pids.max")
out["mem_max"] = cg("memory.max", "memory/memory.limit_in_bytes")
out["swap_max"] = cg("memory.swap.max")
out["memsw_max"] = cg("memory/memory.memsw.limit_in_bytes")
try:
    s = socket.socket(); s.settimeout(1); s.connect(("127.0.0.1", 9)); out["net"] = "connected"
except OSError as e:
    out["net"] = "refused"
print(json.dumps(out))
`;
      const r = await run(code);
      assert.equal(r.status, 'success', JSON.stringify(r));
      const facts = JSON.parse(r.stdout[0]!);
      assert.equal(facts.uid, 65534);
      assert.equal(facts.gid, 65534);
      assert.deepEqual(facts.ifaces, ['lo']);
      assert.equal(facts.rootfs, 30, 'EROFS on the root filesystem');
      assert.ok(facts.root_opts.includes('ro'));
      // bwrap makes /tmp and /workspace non-executable with Landlock, not the mount flag (docs/SECURITY.md).
      const flags = engine.name === 'bwrap' ? ['nosuid', 'nodev'] : ['noexec', 'nosuid', 'nodev'];
      for (const opts of [facts.tmp_opts, facts.ws_opts]) for (const o of flags) assert.ok(opts.includes(o), `${o} in ${opts}`);
      assert.deepEqual([facts['exec/tmp'], facts['exec/workspace']], [13, 13], 'EACCES on executing a file in /tmp and /workspace');
      assert.equal(facts.capeff, '0000000000000000');
      assert.equal(facts.capbnd, '0000000000000000');
      assert.equal(facts.nonewprivs, '1');
      if (engine.name === 'bwrap') {
        // No cgroup fs inside a bwrap sandbox: its limits are read on the host, from the cgroup its record names.
        // A warm one: the run's own sandbox is being removed after its answer, cgroups and all.
        await waitWarm(daemon.client, 1);
        const record = bwrapRecords(daemon.stateDir).find((r) => r.cgroup && r.pid !== undefined && existsSync(join(r.cgroup.pids, 'pids.max')) && !r.slot.startsWith('self-test'));
        assert.ok(record?.cgroup, 'a warm bwrap sandbox has a cgroup');
        const read = (dir: string, file: string): string | null => (existsSync(join(dir, file)) ? readFileSync(join(dir, file), 'utf8').trim() : null);
        const v1 = record.cgroup.version === 1;
        facts.pids_max = read(record.cgroup.pids, 'pids.max');
        facts.mem_max = read(record.cgroup.memory, v1 ? 'memory.limit_in_bytes' : 'memory.max');
        facts.swap_max = v1 ? null : read(record.cgroup.memory, 'memory.swap.max');
        facts.memsw_max = v1 ? read(record.cgroup.memory, 'memory.memsw.limit_in_bytes') : null;
      }
      assert.equal(facts.pids_max, '128');
      assert.equal(facts.mem_max, String(512 * 1024 * 1024));
      // No extra swap: v2 says swap.max 0; v1 (when swap accounting is on) says memory+swap == memory.
      assert.ok(facts.swap_max === '0' || facts.memsw_max === String(512 * 1024 * 1024) || (facts.swap_max === null && facts.memsw_max === null), `swap ${facts.swap_max} memsw ${facts.memsw_max}`);
      assert.equal(facts.net, 'refused');
    });

    test('the pids limit stops a fork storm', async () => {
      const r = await run('import os\nn = 0\ntry:\n    for _ in range(400):\n        if os.fork() == 0:\n            import time; time.sleep(30); os._exit(0)\n        n += 1\nexcept OSError as e:\n    print("stopped", n < 128)', { timeout: 20 });
      assert.equal(r.status, 'success', JSON.stringify(r));
      assert.deepEqual(r.stdout, ['stopped True']);
    });

    test('a timeout returns in about its time, keeps partial output, and its container is gone', async () => {
      await waitWarm(daemon.client, 2);
      // Earlier runs' sandboxes are removed after their answers, and the warm target follows demand:
      // wait until nothing is busy, starting or being removed, so that every sandbox listed is warm.
      const quiet = async (): Promise<boolean> => {
        const { pool } = (await daemon.client.get('/v1/status')) as { pool: { busy: number; starting: number; removing: number; warm: number } };
        return pool.busy === 0 && pool.starting === 0 && pool.removing === 0 && pool.warm >= 2 && (await sandboxesOf(engine, daemon)).length === pool.warm;
      };
      await eventually(quiet, 'the pool holds only warm sandboxes', 30_000);
      const before = (await sandboxesOf(engine, daemon)).map((c) => c.id);
      const started = Date.now();
      const r = await run('print("started", flush=True)\nwhile True: pass', { timeout: 2 });
      const took = Date.now() - started;
      assert.equal(r.status, 'timeout');
      assert.deepEqual(r.stdout, ['started']);
      assert.ok(took >= 2000 && took < 15_000, `took ${took} ms`);
      const now = (await sandboxesOf(engine, daemon)).map((c) => c.id);
      // The run took one of the warm sandboxes; it is gone by the time the answer came.
      assert.ok(before.filter((id) => now.includes(id)).length <= before.length - 1, `before ${before} now ${now}`);
    });

    test('20 runs in a row each get a fresh container', async () => {
      const seen = new Set<string>();
      for (let i = 0; i < 20; i++) {
        const r = await run('import os, socket\nprint(os.path.exists("/tmp/mark"))\nopen("/tmp/mark", "w").write("x")\nprint(open("/proc/self/cgroup").read().strip()[-64:])');
        assert.equal(r.status, 'success', JSON.stringify(r));
        assert.equal(r.stdout[0], 'False', `run ${i} saw an earlier run's file`);
        seen.add(r.stdout[1]!);
      }
      assert.ok(seen.size === 20 || seen.size === 1, 'cgroup names are either distinct per container or hidden by the namespace');
    });

    test('output past the cap is cut with the marker, and the daemon does not keep it', async () => {
      const status0 = (await daemon.client.get('/v1/status')) as { rssBytes: number };
      const r = await run('import sys\nchunk = "x" * 1023 + "\\n"\nfor _ in range(50 * 1024):\n    sys.stdout.write(chunk)\nprint("err", file=sys.stderr)', { timeout: 60 });
      assert.equal(r.status, 'success', JSON.stringify({ ...r, stdout: r.stdout.length }));
      assert.ok(r.truncated, 'truncated marker');
      assert.equal(r.truncated?.limitBytes, 4096);
      assert.ok(r.truncated!.stdoutBytesDropped >= 50 * 1024 * 1024 - 4096, `dropped ${r.truncated!.stdoutBytesDropped}`);
      assert.match(r.stdout[r.stdout.length - 1]!, /^\[output truncated: \d+ more bytes not shown\]$/);
      assert.ok(r.stdout.slice(0, -1).join('\n').length <= 4096);
      assert.deepEqual(r.stderr, ['err']);
      const status1 = (await daemon.client.get('/v1/status')) as { rssBytes: number };
      assert.ok(status1.rssBytes - status0.rssBytes < 40 * 1024 * 1024, `daemon RSS grew by ${status1.rssBytes - status0.rssBytes} bytes for 50 MiB of output`);
    });

    test('invalid input is a validation_error naming the field', async () => {
      const a = await run('', {});
      assert.equal(a.status, 'validation_error');
      assert.match(a.error?.message ?? '', /code/);
      const b = await daemon.client.run({ code: 'print(1)', timeout: 'soon' });
      assert.equal(b.result.status, 'validation_error');
      assert.match(b.result.error?.message ?? '', /timeout/);
      const c = await daemon.client.run({ code: 'print(1)', servers: ['nope'] });
      assert.equal(c.result.status, 'validation_error');
      assert.match(c.result.error?.message ?? '', /nope/);
    });

    test('the CLI prints the result and exits non-zero when the run fails', () => {
      const ok = spawnSync(process.execPath, [CLI, 'run', '-c', 'print(6*7)'], { env: daemon.env, encoding: 'utf8' });
      assert.equal(ok.status, 0, ok.stderr);
      assert.match(ok.stdout, /42/);
      const bad = spawnSync(process.execPath, [CLI, 'run', '--json', '-'], { env: daemon.env, encoding: 'utf8', input: 'raise ValueError("no")' });
      assert.equal(bad.status, 1);
      assert.equal(JSON.parse(bad.stdout).error.type, 'ValueError');
    });

    test('SIGKILL of the daemon, then a new daemon, leaves no container of the old one', async () => {
      const oldIds = (await sandboxesOf(engine, daemon)).map((c) => c.id);
      assert.ok(oldIds.length >= 1);
      await daemon.kill();
      daemon = await daemon.restart();
      const now = (await sandboxesOf(engine, daemon)).map((c) => c.id);
      assert.deepEqual(now.filter((id) => oldIds.includes(id)), []);
      const r = await run('print("alive")');
      assert.deepEqual(r.stdout, ['alive']);
    });

    test('SIGTERM removes every container of the daemon and the socket', async () => {
      const code = await daemon.stop();
      assert.equal(code, 0, daemon.logs());
      assert.deepEqual(await leftoversOf(engine, daemon), []);
      const { existsSync } = await import('node:fs');
      assert.equal(existsSync(daemon.socket), false);
    });
  });
}
