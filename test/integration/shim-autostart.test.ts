import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ControlClient } from '@mcp-code-mode/client';
import { statePaths } from '../../daemon/src/state-dir.ts';
import { availableEngines, sandboxesOf, type TestEngine } from '../support/engines.ts';
import { callRun, connectShim } from '../support/shim-client.ts';
import { eventually } from '../support/poll.ts';

const engines = await availableEngines({ bwrap: true });

/** Pids of `mcp-code-mode daemon` processes whose environment names this state directory. */
function daemonPids(stateDir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (!cmdline.some((a) => a.endsWith('mcp-code-mode.js')) || !cmdline.includes('daemon')) continue;
      const environ = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
      if (environ.includes(`MCP_BRIDGE_STATE_DIR=${stateDir}`)) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

const waitFor = (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> => eventually(check, what, timeoutMs);

function freshEnv(engine: TestEngine, extra: Record<string, string> = {}): { env: NodeJS.ProcessEnv; stateDir: string } {
  const stateDir = mkdtempSync(join(tmpdir(), 'mcm-auto-'));
  return {
    stateDir,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, MCP_BRIDGE_STATE_DIR: stateDir, MCP_BRIDGE_RUNTIME: engine.socket, MCP_BRIDGE_POOL_SIZE: '1', ...extra },
  };
}

for (const engine of engines) {
  describe(`shim autostart on ${engine.name}`, () => {
    const stateDirs: string[] = [];
    const fresh = (extra: Record<string, string> = {}) => {
      const made = freshEnv(engine, extra);
      stateDirs.push(made.stateDir);
      return made;
    };
    after(async () => {
      for (const dir of stateDirs) {
        const control = new ControlClient(statePaths({ MCP_BRIDGE_STATE_DIR: dir }).socket);
        await control.post('/v1/shutdown').catch(() => undefined);
        await waitFor('daemon gone', () => daemonPids(dir).length === 0).catch(() => daemonPids(dir).forEach((pid) => process.kill(pid, 'SIGKILL')));
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test('with no daemon running, the first call starts one (detached, logging to the state dir) and succeeds', async () => {
      const { env, stateDir } = fresh();
      await using shim = await connectShim(env);
      const out = await callRun(shim.client, { code: 'print("first")' });
      assert.equal(out.result.status, 'success', `${out.text}\n${shim.stderr()}`);
      assert.deepEqual(out.result.stdout, ['first']);
      const paths = statePaths(env);
      assert.equal(statSync(paths.socket).mode & 0o777, 0o600, 'socket mode 0600');
      assert.equal(statSync(paths.dir).mode & 0o777, 0o700, 'state directory mode 0700');
      assert.equal(statSync(paths.logFile).mode & 0o777, 0o600, 'log file mode 0600');
      // Logged once: the background daemon's logger writes the file, and its stderr (also the file) stays quiet.
      assert.equal(readFileSync(paths.logFile, 'utf8').match(/"msg":"daemon ready"/g)?.length, 1);
      assert.equal(daemonPids(stateDir).length, 1);
    });

    test('the daemon outlives the shim that started it', async () => {
      const { env, stateDir } = fresh();
      {
        await using shim = await connectShim(env);
        assert.equal((await callRun(shim.client, { code: 'print(1)' })).result.status, 'success');
      }
      const [pid] = daemonPids(stateDir);
      assert.ok(pid, 'a daemon runs after its shim has gone');
      await using again = await connectShim({ ...env, MCP_BRIDGE_AUTOSTART: '0' });
      assert.equal((await callRun(again.client, { code: 'print(2)' })).result.status, 'success');
      assert.deepEqual(daemonPids(stateDir), [pid]);
    });

    test('two clients calling at the same time on a fresh state directory share one daemon', async () => {
      const { env, stateDir } = fresh();
      await using a = await connectShim(env);
      await using b = await connectShim(env);
      const [ra, rb] = await Promise.all([callRun(a.client, { code: 'print("a")' }), callRun(b.client, { code: 'print("b")' })]);
      assert.equal(ra.result.status, 'success', `${ra.text}\n${a.stderr()}`);
      assert.equal(rb.result.status, 'success', `${rb.text}\n${b.stderr()}`);
      // A losing daemon leaves at once; give it a moment, then exactly one must be left.
      await waitFor('one daemon left', () => daemonPids(stateDir).length === 1);
      const status = (await new ControlClient(statePaths(env).socket).get('/v1/status')) as { pid: number };
      assert.deepEqual(daemonPids(stateDir), [status.pid]);
      assert.equal(readFileSync(statePaths(env).lockFile, 'utf8').trim(), String(status.pid));
    });

    test('MCP_BRIDGE_AUTOSTART=0 with no daemon: a clear error result saying how to start it', async () => {
      const { env, stateDir } = fresh({ MCP_BRIDGE_AUTOSTART: '0' });
      await using shim = await connectShim(env);
      const out = await callRun(shim.client, { code: 'print(1)' });
      assert.equal(out.isError, true);
      assert.equal(out.result.status, 'error');
      assert.match(out.text, /MCP_BRIDGE_AUTOSTART=0/);
      assert.match(out.text, /mcp-code-mode start/);
      assert.deepEqual(daemonPids(stateDir), []);
    });

    test('a daemon that dies mid-run gives that call a clear error, and the next call works (autostart again)', async () => {
      const { env, stateDir } = fresh();
      await using shim = await connectShim(env);
      assert.equal((await callRun(shim.client, { code: 'print("warm-up")' })).result.status, 'success');
      const [pid] = daemonPids(stateDir);
      assert.ok(pid);
      let started!: () => void;
      const running = new Promise<void>((resolve) => (started = resolve));
      const call = callRun(shim.client, { code: 'print("started", flush=True)\nimport time\ntime.sleep(30)' }, { onprogress: () => started() });
      await running;
      process.kill(pid, 'SIGKILL');
      const out = await call;
      assert.equal(out.isError, true);
      assert.equal(out.result.status, 'error');
      assert.equal(out.result.error?.type, 'DaemonError');
      assert.match(out.text, /daemon/i);
      // The next call comes at once, while the kernel may still be tearing the killed process down: a
      // connection it accepts and resets never reached a run, so the shim starts a daemon and retries.
      const next = await callRun(shim.client, { code: 'print("again")' });
      assert.equal(next.result.status, 'success', next.text);
      const [newPid] = daemonPids(stateDir);
      assert.ok(newPid && newPid !== pid, 'a new daemon was started');
      // The new daemon removed the killed one's sandboxes.
      const ref = { owner: statePaths(env).owner, stateDir };
      await waitFor('only the new daemon has sandboxes', async () => new Set((await sandboxesOf(engine, ref)).map((s) => s.daemon)).size <= 1);
    });

    test('calls made while the daemon stops are run by the next daemon: none is lost', async () => {
      const { env, stateDir } = fresh();
      await using shim = await connectShim(env);
      assert.equal((await callRun(shim.client, { code: 'print("warm-up")' })).result.status, 'success');
      const [pid] = daemonPids(stateDir);
      const control = new ControlClient(statePaths(env).socket);
      await control.post('/v1/shutdown');
      // Spread over the shutdown: refused as shutting_down, reset, or refused at the socket; each one
      // must reach the next daemon (the old one started none of them).
      const calls = [0, 20, 60, 150, 400].map(async (ms, i) => {
        await new Promise((r) => setTimeout(r, ms));
        return callRun(shim.client, { code: `print("call ${i}")` });
      });
      const outs = await Promise.all(calls);
      outs.forEach((out, i) => {
        assert.equal(out.result.status, 'success', `call ${i}: ${out.text}`);
        assert.deepEqual(out.result.stdout, [`call ${i}`]);
      });
      await waitFor('the old daemon gone', () => !daemonPids(stateDir).includes(pid!));
      const pids = daemonPids(stateDir);
      assert.equal(pids.length, 1, `one daemon runs: ${pids.join(', ')}`);
    });
  });
}
