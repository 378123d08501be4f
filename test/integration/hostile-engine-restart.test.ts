// The container engine dies and comes back while the daemon runs, with a run in flight and a warm
// pool. On Podman the test serves the engine API itself (`podman system service` on a socket of its
// own, over the machine's shared container storage), so it kills and restarts only a process it
// started, and other users of the machine's engines notice nothing. Without Podman, and only when
// Docker is the sole engine, it restarts dockerd the way scripts/ensure-engine.sh starts it.
// docs/SECURITY.md: ids X1...
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Docker from 'dockerode';
import { ControlError } from '@mcp-code-mode/client';
import { availableEngines, type ContainerEngine } from '../support/engines.ts';
import { CASE, containerRunning, eventually, POOL_SIZE, settled, startHostileDaemon, type HostileDaemon } from '../support/hostile.ts';

interface RestartableEngine {
  engine: ContainerEngine;
  stop(): Promise<void>;
  start(): Promise<void>;
  dispose(): Promise<void>;
}

const answers = async (docker: Docker): Promise<boolean> => docker.ping().then(() => true, () => false);

/** A Podman API service of this test's own, on a private socket. */
async function ownPodmanService(): Promise<RestartableEngine> {
  const dir = mkdtempSync(join(tmpdir(), 'mcm-podman-'));
  const socket = join(dir, 'podman.sock');
  const docker = new Docker({ socketPath: socket });
  let service: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    rmSync(socket, { force: true });
    service = spawn('podman', ['system', 'service', '--time=0', `unix://${socket}`], { stdio: 'ignore' });
    await eventually(() => answers(docker), 'the Podman service answers', 60_000);
  };
  const stop = async (): Promise<void> => {
    const proc = service;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGKILL');
    await new Promise((resolve) => proc.once('exit', resolve));
  };
  await start();
  return { engine: { name: 'podman', socket, docker, env: { MCP_BRIDGE_RUNTIME: socket } }, stop, start, dispose: async () => {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  } };
}

/** The machine's dockerd, restarted as scripts/ensure-engine.sh starts it (only when it is the sole engine). */
function sharedDockerd(engine: ContainerEngine): RestartableEngine {
  const stop = async (): Promise<void> => {
    const pid = Number(spawnSync('pidof', ['dockerd'], { encoding: 'utf8' }).stdout.trim().split(/\s+/)[0]);
    if (!pid) return;
    process.kill(pid, 'SIGTERM');
    await eventually(() => spawnSync('kill', ['-0', String(pid)]).status !== 0, 'dockerd has exited', 120_000);
  };
  const start = async (): Promise<void> => {
    spawn('sh', ['-c', 'nohup dockerd >>/var/log/mcp-code-mode-dockerd.log 2>&1 </dev/null &'], { stdio: 'ignore', detached: true }).unref();
    await eventually(() => answers(engine.docker), 'dockerd answers again', 120_000);
  };
  return { engine, stop, start, dispose: async () => {
    if (!(await answers(engine.docker))) await start();
  } };
}

async function restartableEngine(): Promise<RestartableEngine | string> {
  const wanted = process.env.TEST_ENGINES?.split(',').map((s) => s.trim());
  // bwrap has no engine to restart: its sandboxes are the daemon's own children.
  if (wanted && !wanted.some((name) => name === 'docker' || name === 'podman')) return `about an engine restarting; not run on ${wanted.join(', ')} (bwrap has no engine)`;
  const engines = (await availableEngines()).filter((e): e is ContainerEngine => e.name !== 'bwrap');
  if (spawnSync('podman', ['--version']).status === 0) return ownPodmanService();
  if (engines.length === 1 && engines[0]!.name === 'docker') return sharedDockerd(engines[0]!);
  return 'needs podman (to serve an engine of its own) or Docker as the only engine';
}

describe('hostile engine restart', () => {
  let target: RestartableEngine | string;
  let h: HostileDaemon;

  before(async () => {
    target = await restartableEngine();
    if (typeof target !== 'string') h = await startHostileDaemon(target.engine);
  });
  after(async () => {
    await h?.dispose();
    if (typeof target !== 'string') await target.dispose();
  });

  test('X1 the engine dies mid-run and comes back: every run is answered, nothing is left behind', CASE, async (t) => {
    if (typeof target === 'string') return t.skip(target);
    const { engine } = target;
    const running = h.run('import subprocess, time\nsubprocess.Popen(["sleep", "775"])\nprint("started", flush=True)\ntime.sleep(600)', { timeout: 120 });
    await containerRunning(engine, h.daemon, ['sleep', '775']);

    await target.stop();
    // The run in flight is answered, and says what happened.
    const r = await running;
    assert.equal(r.status, 'error', JSON.stringify(r));
    assert.equal(r.error?.type, 'SandboxLost');
    assert.equal(r.error?.message, 'the connection to the sandbox broke before the code finished (was the container engine restarted?); the sandbox was discarded');
    // While the engine is down: the daemon answers, and a run gets a clear refusal naming the engine.
    const down = await h.daemon.client.run({ code: 'print(1)' }).then(
      (answer) => answer.result,
      (err: unknown) => err,
    );
    assert.ok(down instanceof ControlError, `a run while the engine is down: ${JSON.stringify(down)}`);
    assert.equal(down.code, 'engine_unavailable');
    assert.ok(down.message.includes(engine.socket), down.message);
    const status = (await h.daemon.client.get('/v1/status')) as { pool: { lastStartError?: string } };
    assert.ok(status.pool.lastStartError?.includes(engine.socket), JSON.stringify(status.pool));

    await target.start();
    // Back: runs succeed, and the containers of before the outage (the busy one, the warm ones,
    // whose removal failed while the engine was down) are swept: only the warm pool remains.
    await eventually(async () => (await h.daemon.client.run({ code: 'print(1)' }).then((a) => a.result.status, () => 'refused')) === 'success', 'a run succeeds again', 120_000);
    await settled(engine, h.daemon, POOL_SIZE, 120_000);
    await h.recovered();
  });
});
