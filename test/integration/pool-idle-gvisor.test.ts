// The pool sleeps after MCP_BRIDGE_RUNTIME_IDLE_TIMEOUT (no container of the daemon left) and is warm
// again after one run; a run under MCP_BRIDGE_OCI_RUNTIME=runsc sees gVisor's kernel, and a daemon
// asked for a runtime the engine lacks refuses to start. Docker only: scripts/ensure-engine.sh
// registers runsc with the system dockerd (SETUP_FOR_TESTS=1); Podman is not set up for it here.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { availableEngines, containersOf, dockerOf } from '../support/engines.ts';
import { startDaemonProcess, waitWarm } from '../support/daemon-process.ts';
import { eventually } from '../support/poll.ts';

const engine = (await availableEngines()).find((e) => e.name === 'docker');
const runtimes = engine ? Object.keys(((await dockerOf(engine).info()) as { Runtimes?: Record<string, unknown> }).Runtimes ?? {}) : [];

describe('pool idle timeout (docker)', { skip: !engine && 'Docker does not answer' }, () => {
  test('at zero containers after the timeout, warm again after one run', async () => {
    await using daemon = await startDaemonProcess(engine!, { MCP_BRIDGE_RUNTIME_IDLE_TIMEOUT: '2', MCP_BRIDGE_POOL_SIZE: '2' });
    await waitWarm(daemon.client, 2);
    assert.equal((await containersOf(engine!, daemon.owner)).length, 2);
    // Polling /v1/status would wake the pool: watch the engine instead.
    await eventually(async () => (await containersOf(engine!, daemon.owner)).length === 0, 'no container of the daemon is left', 20_000, 200);

    const run = await daemon.client.run({ code: 'print(6 * 7)' });
    assert.equal(run.result.status, 'success');
    assert.deepEqual(run.result.stdout, ['42']);
    // Each GET /v1/status wakes the pool too, so it stays awake while this waits.
    type Pool = { pool: { sleeping: boolean; warm: number; target: number } };
    await eventually(
      async () => ((await daemon.client.get('/v1/status')) as Pool).pool.warm === 2 && (await containersOf(engine!, daemon.owner)).length === 2,
      'two warm containers again',
      30_000,
      200,
    );
    const awake = (await daemon.client.get('/v1/status')) as Pool;
    assert.equal(awake.pool.sleeping, false);
    assert.equal(awake.pool.target, 2);
  });
});

describe('gVisor (MCP_BRIDGE_OCI_RUNTIME=runsc, docker)', { skip: (!engine && 'Docker does not answer') || (!runtimes.includes('runsc') && 'runsc is not registered with dockerd (SETUP_FOR_TESTS=1 bash scripts/ensure-engine.sh docker)') }, () => {
  test('a run works and its kernel is gVisor', async () => {
    await using daemon = await startDaemonProcess(engine!, { MCP_BRIDGE_OCI_RUNTIME: 'runsc', MCP_BRIDGE_POOL_SIZE: '1' });
    await waitWarm(daemon.client, 1, 90_000);
    const [container] = await containersOf(engine!, daemon.owner);
    assert.ok(container);
    const inspect = await dockerOf(engine!).getContainer(container.Id).inspect();
    assert.equal(inspect.HostConfig.Runtime, 'runsc');
    const run = await daemon.client.run({ code: 'import os\nprint(open("/proc/version").read().strip())\nprint(os.uname().release)\nprint(os.getuid())' });
    assert.equal(run.result.status, 'success', JSON.stringify(run.result));
    // The host runs a Debian 6.x kernel; gVisor's Sentry reports its own fixed 4.4.0.
    assert.deepEqual(run.result.stdout, ['Linux version 4.4.0 #1 SMP Sun Jan 10 15:06:54 PST 2016', '4.4.0', '65534']);
  });
});

describe('an OCI runtime the engine lacks (docker)', { skip: !engine && 'Docker does not answer' }, () => {
  test('the daemon refuses to start and says why', async () => {
    await assert.rejects(startDaemonProcess(engine!, { MCP_BRIDGE_OCI_RUNTIME: 'no-such-runtime' }), /MCP_BRIDGE_OCI_RUNTIME=no-such-runtime: the docker engine has no such runtime \(it has [^)]*runc/);
  });
});
