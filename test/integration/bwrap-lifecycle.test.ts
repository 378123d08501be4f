// What a bwrap sandbox leaves behind (nothing), how its death is reported (oom, exited with the
// signal's code, removed), and that an earlier daemon's sandboxes are found and removed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { AgentFrame } from '@mcp-code-mode/protocol';
import { pino } from 'pino';
import { buildAgentBundle } from '../../daemon/src/agent/agent-bundle.ts';
import { bwrapPrecompile } from '../../daemon/src/runtimes/bwrap/agent-command.ts';
import { DEFAULT_CLAIM_DIR } from '../../daemon/src/runtimes/bwrap/uid-claims.ts';
import type { BwrapRuntime } from '../../daemon/src/runtimes/bwrap/bwrap-runtime.ts';
import { Sandbox } from '../../daemon/src/sandbox/sandbox.ts';
import { bwrapSkipReason, openTestRuntime, startAgent, type TestRuntime } from '../support/bwrap.ts';

const skip = bwrapSkipReason();
if (skip) console.log(`# bwrap lifecycle tests skipped: ${skip}`);

const HOLDER = new URL('../fixtures/bwrap-holder.ts', import.meta.url).pathname;

function pidsOfUid(uid: number): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .filter((n) => {
      try {
        return Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${n}/status`, 'utf8'))![1]) === uid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

async function eventually(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Nothing of the sandbox is left on the host: processes, cgroups, its record, its uid claim. */
function assertGone(t: TestRuntime, res: { uid?: number | undefined; cgroups: string[] }, id: string): void {
  assert.ok(res.uid !== undefined);
  assert.deepEqual(pidsOfUid(res.uid), [], `processes of uid ${res.uid} are left`);
  for (const dir of res.cgroups) assert.ok(!existsSync(dir), `cgroup ${dir} is left`);
  assert.ok(!existsSync(join(t.stateDir, 'bwrap', `${id}.json`)), 'the record is left');
  const claim = join(DEFAULT_CLAIM_DIR, String(res.uid), 'owner.json');
  assert.ok(!existsSync(claim) || !readFileSync(claim, 'utf8').includes(id), 'the uid claim is left');
}

describe('bwrap sandbox lifecycle', { skip, timeout: 240_000 }, () => {
  const opened: TestRuntime[] = [];
  const open = async (...args: Parameters<typeof openTestRuntime>): Promise<TestRuntime> => {
    const t = await openTestRuntime(...args);
    opened.push(t);
    return t;
  };
  after(async () => {
    for (const t of opened) for (const r of await t.runtime.list()) await t.runtime.remove(r.id);
  });

  test('remove() during a run kills the whole tree (children, a double fork) and leaves nothing', async () => {
    const t = await open();
    const agent = await startAgent(t.runtime, 'slot-1');
    const res = t.runtime.resources(agent.sandbox.id)!;
    agent.start(`
import os, subprocess, time
subprocess.Popen(['sleep', '300'])
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(300)
    os._exit(0)
time.sleep(300)
`);
    await eventually(() => pidsOfUid(res.uid!).length >= 5, 'the run to spawn its processes');
    assert.deepEqual(await t.runtime.list(), [{ id: agent.sandbox.id, slot: 'slot-1', ours: true }]);
    await t.runtime.remove(agent.sandbox.id);
    assertGone(t, res, agent.sandbox.id);
    assert.deepEqual(await t.runtime.diagnose(agent.sandbox.id), { kind: 'removed' });
    assert.deepEqual(await t.runtime.list(), []);
    await t.runtime.remove(agent.sandbox.id); // gone is not an error
  });

  test('an exit and a fatal signal are reported with their codes', async () => {
    const t = await open();
    for (const [code, expected] of [['import os; os._exit(7)', 7], ['import os, signal; os.kill(os.getpid(), signal.SIGKILL)', 137]] as const) {
      const agent = await startAgent(t.runtime);
      agent.start(code);
      await agent.untilClosed();
      assert.deepEqual(await t.runtime.diagnose(agent.sandbox.id), { kind: 'exited', exitCode: expected });
      const res = t.runtime.resources(agent.sandbox.id)!;
      await t.runtime.remove(agent.sandbox.id);
      assertGone(t, res, agent.sandbox.id);
    }
  });

  test('memory over the limit is an OOM (no swap), and the next sandbox starts', async () => {
    const t = await open({ memoryBytes: 96 * 1024 * 1024 });
    const agent = await startAgent(t.runtime);
    agent.start("chunks = []\nwhile True:\n    chunks.append(bytearray(8 * 1024 * 1024))");
    await agent.untilClosed(30_000);
    assert.deepEqual(await t.runtime.diagnose(agent.sandbox.id), { kind: 'oom' });
    await t.runtime.remove(agent.sandbox.id);
    const next = await startAgent(t.runtime);
    await next.ping();
    await t.runtime.remove(next.sandbox.id);
  });

  test('a fork bomb meets the pids limit; the sandbox is then removed whole', async () => {
    const t = await open({ pids: 32, nproc: 1000 });
    const agent = await startAgent(t.runtime);
    const res = t.runtime.resources(agent.sandbox.id)!;
    const { stdout, result } = await agent.run(`
import os, time
n = 0
try:
    while True:
        if os.fork() == 0:
            time.sleep(300)
            os._exit(0)
        n += 1
except BlockingIOError as e:
    print('refused after', n, e.errno)
`);
    assert.equal(result.status, 'success');
    const m = /^refused after (\d+) 11$/.exec(stdout.trim());
    assert.ok(m && Number(m[1]) < 32, stdout);
    const pidsDir = res.cgroups.find((d) => d.includes('/pids/'))!;
    assert.match(readFileSync(join(pidsDir, 'pids.events'), 'utf8'), /^max [1-9]/m);
    await agent.ping();
    await t.runtime.remove(agent.sandbox.id);
    assertGone(t, res, agent.sandbox.id);
  });

  test('RLIMIT_NPROC holds per sandbox: its uid is its own', async () => {
    const t = await open({ pids: 1000, nproc: 16 });
    const [a, b] = [await startAgent(t.runtime), await startAgent(t.runtime)];
    assert.notEqual(t.runtime.resources(a.sandbox.id)!.uid, t.runtime.resources(b.sandbox.id)!.uid);
    const bomb = "import os, time\nn = 0\ntry:\n    while True:\n        if os.fork() == 0:\n            time.sleep(60); os._exit(0)\n        n += 1\nexcept BlockingIOError:\n    print(n)";
    const first = Number((await a.run(bomb)).stdout.trim());
    assert.ok(first > 0 && first < 16, String(first));
    // A sandbox that spent all of its uid's processes does not take the other's.
    assert.equal(Number((await b.run(bomb)).stdout.trim()), first);
    await t.runtime.remove(a.sandbox.id);
    await t.runtime.remove(b.sandbox.id);
  });

  test('MCP_BRIDGE_CPUS is a CFS quota, and busy code is throttled', async () => {
    const t = await open({ cpus: 0.2 });
    const agent = await startAgent(t.runtime);
    const cpu = t.runtime.resources(agent.sandbox.id)!.cgroups.find((d) => d.includes('/cpu/'))!;
    assert.equal(readFileSync(join(cpu, 'cpu.cfs_quota_us'), 'utf8').trim(), '20000');
    await agent.run('import time\nend = time.time() + 0.5\nwhile time.time() < end:\n    pass');
    assert.match(readFileSync(join(cpu, 'cpu.stat'), 'utf8'), /^nr_throttled [1-9]/m);
    await t.runtime.remove(agent.sandbox.id);
    assert.ok(!existsSync(cpu));
  });

  test('selfTest() starts the agent, or says why a sandbox cannot start (its stderr)', async () => {
    const t = await open();
    assert.ok((await t.runtime.selfTest()).readyMs > 0);
    const broken = await open({}, {}, undefined, undefined, ['python3', '-c', 'import sys; sys.stderr.write("mcp-agent: no Landlock here\\n"); sys.exit(3)']);
    await assert.rejects(broken.runtime.selfTest(), /a bwrap sandbox does not start: the sandbox exited before its agent was ready \(exit code 3\): mcp-agent: no Landlock here/);
    assert.deepEqual(await broken.runtime.list(), []);
  });

  test('precompile() compiles the agent once with the sandbox\'s Python and later sandboxes run from it; when it fails they compile it themselves', async () => {
    const t = await open();
    const launcherArgs = (runtime: BwrapRuntime, agent: { sandbox: { id: string } }): string[] => readFileSync(`/proc/${runtime.resources(agent.sandbox.id)!.pid}/cmdline`, 'utf8').split('\0');
    const before = await startAgent(t.runtime, 'slot-before');
    assert.ok(!launcherArgs(t.runtime, before).includes('--code-fd=4'), 'no code before precompile()');
    await t.runtime.remove(before.sandbox.id);
    assert.equal(await t.runtime.precompile(), true);
    assert.deepEqual(await t.runtime.list(), [], 'the precompiling sandbox is removed');
    const agent = await startAgent(t.runtime, 'slot-p');
    assert.ok(launcherArgs(t.runtime, agent).includes('--code-fd=4'));
    assert.equal((await agent.run('print(6 * 7)')).stdout, '42\n');
    assert.doesNotMatch(agent.stderr, /precompiled code not used/);
    await t.runtime.remove(agent.sandbox.id);

    const broken = await open({}, {}, undefined, undefined, undefined, { command: ['python3', '-c', 'import sys; sys.stderr.write("no compiler here\\n"); sys.exit(5)'], bundle: 'x' });
    assert.equal(await broken.runtime.precompile(), false);
    assert.deepEqual(await broken.runtime.list(), []);
    const compiling = await startAgent(broken.runtime, 'slot-q');
    assert.ok(!launcherArgs(broken.runtime, compiling).includes('--code-fd=4'));
    assert.equal((await compiling.run('print(6 * 7)')).stdout, '42\n');
    await broken.runtime.remove(compiling.sandbox.id);
  });

  test('the compiled agent is kept in the cache for the next runtime on the same root fs; a file that is not precompile.py\'s output is compiled again', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'mcm-agent-code-'));
    try {
      const spec = { ...(await bwrapPrecompile((await buildAgentBundle()).command)), cacheDir };
      const first = await open({}, {}, undefined, undefined, undefined, spec);
      assert.equal(await first.runtime.precompile(), true);
      const names = readdirSync(cacheDir);
      assert.equal(names.length, 1, `one file, no temporary left: ${names.join(', ')}`);
      assert.match(names[0]!, /^agent-code-rootfs-[0-9a-z-]+-[0-9a-f]{16}$/);
      const file = join(cacheDir, names[0]!);
      assert.equal(statSync(file).mode & 0o777, 0o600);
      const compiled = readFileSync(file);
      assert.match(compiled.subarray(0, 40).toString('latin1'), /^mcp-agent-code 1 \d+ \d+ /);

      // The next runtime takes the file as it is (the bootstrap still checks it: here it is another bundle's).
      writeFileSync(file, Buffer.concat([Buffer.from('mcp-agent-code 1 1 1 3.0\n'), compiled.subarray(compiled.indexOf(10) + 1)]));
      const second = await open({}, {}, undefined, undefined, undefined, spec);
      assert.equal(await second.runtime.precompile(), true);
      const agent = await startAgent(second.runtime, 'slot-cached');
      assert.equal((await agent.run('print(6 * 7)')).stdout, '42\n');
      assert.match(agent.stderr, /precompiled code not used: compiled from another bundle/);
      await second.runtime.remove(agent.sandbox.id);

      // Not precompile.py's output at all: compiled again, and the cache holds the real thing.
      writeFileSync(file, 'not compiled code');
      const third = await open({}, {}, undefined, undefined, undefined, spec);
      assert.equal(await third.runtime.precompile(), true);
      assert.deepEqual(readdirSync(cacheDir), names);
      assert.match(readFileSync(file).subarray(0, 40).toString('latin1'), /^mcp-agent-code 1 \d+ \d+ /);
      const fresh = await startAgent(third.runtime, 'slot-fresh');
      assert.equal((await fresh.run('print(6 * 7)')).stdout, '42\n');
      assert.doesNotMatch(fresh.stderr, /precompiled code not used/);
      await third.runtime.remove(fresh.sandbox.id);
    } finally {
      rmSync(cacheDir, { recursive: true, force: true });
    }
  });

  test('sandboxes start in parallel, each with a uid of its own, and the daemon Sandbox class drives them unchanged', async () => {
    const t = await open();
    const started = await Promise.all(Array.from({ length: 6 }, (_, i) => t.runtime.start(`slot-${i}`)));
    const uids = new Set(started.map((s) => t.runtime.resources(s.id)!.uid));
    assert.equal(uids.size, 6);
    const sandboxes = started.map((s) => new Sandbox(s, t.runtime, pino({ level: 'silent' })));
    await Promise.all(sandboxes.map((s) => s.waitReady(30_000)));
    assert.deepEqual(await Promise.all(sandboxes.map((s) => s.ping(5000))), sandboxes.map(() => true));
    const id = sandboxes[0]!.send({ type: 'execute', code: 'print(6 * 7)', servers: [], discovered: [], maxOutputBytes: 4096 });
    const out = await sandboxes[0]!.waitFor((f): f is AgentFrame => f.type === 'stream' && f.re === id, 10_000, 'output');
    assert.equal(out.type === 'stream' && out.data, '42\n');
    await Promise.all(sandboxes.map((s) => s.destroy()));
    assert.deepEqual(await t.runtime.list(), []);
  });

  test('records deleted under a live sandbox (the state directory removed) are written again by the next list()', async () => {
    const t = await open();
    const agent = await startAgent(t.runtime);
    rmSync(join(t.stateDir, 'bwrap'), { recursive: true, force: true });
    assert.deepEqual((await t.runtime.list()).map((r) => r.id), [agent.sandbox.id]);
    const record = JSON.parse(readFileSync(join(t.stateDir, 'bwrap', `${agent.sandbox.id}.json`), 'utf8')) as { id: string; pid?: number };
    assert.equal(record.id, agent.sandbox.id);
    assert.ok(record.pid !== undefined, 'the record names the launcher pid, for the next daemon to clean up after a SIGKILL');
    await t.runtime.remove(agent.sandbox.id);
    assert.deepEqual(await t.runtime.list(), [], 'a removed sandbox gets no record back');
  });

  test('an aborted start leaves nothing', async () => {
    const t = await open();
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(t.runtime.start('slot', controller.signal), /abort/i);
    assert.deepEqual(await t.runtime.list(), []);
  });

  for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
    test(`after ${signal} of the daemon its sandboxes die, and the next daemon removes what is left`, async () => {
      const stateDir = mkdtempSync(join(tmpdir(), 'mcm-bwrap-'));
      const holder = spawn(process.execPath, ['--import', 'tsx', HOLDER, stateDir], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      holder.stdout.on('data', (c: Buffer) => (out += c.toString()));
      await eventually(() => out.includes('\n'), 'the holder to start its sandboxes', 60_000);
      const made = JSON.parse(out) as { daemon: string; sandboxes: { id: string; uid: number; cgroups: string[] }[] };
      assert.equal(made.sandboxes.length, 2);
      for (const s of made.sandboxes) assert.ok(pidsOfUid(s.uid).length > 0);
      holder.kill(signal);
      await new Promise((resolve) => holder.once('exit', resolve));
      // --die-with-parent: the sandboxes end with their daemon, whatever their code was doing.
      for (const s of made.sandboxes) await eventually(() => pidsOfUid(s.uid).length === 0, `the processes of ${s.id} to end`);

      const next = await open({}, {}, stateDir);
      const left = await next.runtime.list();
      assert.deepEqual(left.map((r) => [r.id, r.ours]).sort(), made.sandboxes.map((s) => [s.id, false]).sort());
      for (const r of left) await next.runtime.remove(r.id);
      for (const s of made.sandboxes) assertGone(next, s, s.id);
      assert.deepEqual(readdirSync(join(stateDir, 'bwrap')), []);
    });
  }

  test('after SIGKILL of a daemon whose state directory is never opened again, the next daemon anywhere frees its uid claims and cgroups, and leaves live sandboxes alone', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'mcm-bwrap-gone-'));
    const holder = spawn(process.execPath, ['--import', 'tsx', HOLDER, stateDir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    holder.stdout.on('data', (c: Buffer) => (out += c.toString()));
    await eventually(() => out.includes('\n'), 'the holder to start its sandboxes', 60_000);
    const made = JSON.parse(out) as { sandboxes: { id: string; uid: number; cgroups: string[] }[] };
    holder.kill('SIGKILL');
    await new Promise((resolve) => holder.once('exit', resolve));
    for (const s of made.sandboxes) await eventually(() => pidsOfUid(s.uid).length === 0, `the processes of ${s.id} to end`);
    rmSync(stateDir, { recursive: true, force: true });
    for (const s of made.sandboxes) {
      assert.ok(existsSync(join(DEFAULT_CLAIM_DIR, String(s.uid))), 'the dead daemon left its claims');
      assert.ok(s.cgroups.length > 0 && s.cgroups.every((dir) => existsSync(dir)), 'and its cgroups');
    }

    const other = await open();
    const live = await startAgent(other.runtime, 'slot-live');
    const liveRes = other.runtime.resources(live.sandbox.id)!;
    const swept = await other.runtime.sweepAbandoned(0);
    for (const s of made.sandboxes) {
      assert.ok(swept.uids.includes(s.uid), `uid ${s.uid} freed: ${JSON.stringify(swept)}`);
      assert.ok(swept.cgroups.includes(s.id), `cgroups of ${s.id} removed`);
      assert.ok(!existsSync(join(DEFAULT_CLAIM_DIR, String(s.uid))));
      for (const dir of s.cgroups) assert.ok(!existsSync(dir), `cgroup ${dir} is left`);
    }
    // The sandbox of a live daemon keeps its claim and cgroups, and runs on.
    assert.ok(!swept.uids.includes(liveRes.uid!) && !swept.cgroups.includes(live.sandbox.id));
    for (const dir of liveRes.cgroups) assert.ok(existsSync(dir));
    assert.equal((await live.run('print(6 * 7)')).stdout, '42\n');
    await other.runtime.remove(live.sandbox.id);
    assertGone(other, liveRes, live.sandbox.id);
  });
});

describe('bwrap without cgroups', { skip, timeout: 120_000 }, () => {
  // This host as one with no cgroup filesystem: the probe must refuse, unless told to go on.
  const noCgroups = async (path: string): Promise<string | undefined> =>
    path === '/proc/self/mountinfo' ? '22 1 0:10 / / rw - ext4 /dev/vda rw\n' : readFile(path, 'utf8').catch(() => undefined);

  test('the probe refuses, saying what to do; MCP_BRIDGE_BWRAP_ALLOW_UNLIMITED=1 goes on, and remove() finds the processes by uid', async () => {
    await assert.rejects(openTestRuntime({}, { readHostFile: noCgroups }), /cannot get their memory, pids and CPU limits: no cgroup filesystem.*MCP_BRIDGE_BWRAP_ALLOW_UNLIMITED=1/);
    const warnings: string[] = [];
    const t = await openTestRuntime({}, { readHostFile: noCgroups, allowUnlimited: true, warn: (m) => warnings.push(m) });
    assert.match(warnings.join('\n'), /WITHOUT memory, pids and CPU limits/);
    const agent = await startAgent(t.runtime);
    const res = t.runtime.resources(agent.sandbox.id)!;
    assert.deepEqual(res.cgroups, []);
    agent.start("import subprocess, time\nfor _ in range(3):\n    subprocess.Popen(['sleep', '300'])\ntime.sleep(300)");
    await eventually(() => pidsOfUid(res.uid!).length >= 5, 'the run to spawn its processes');
    await t.runtime.remove(agent.sandbox.id);
    assertGone(t, res, agent.sandbox.id);
  });
});
