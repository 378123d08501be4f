// The warm pool follows demand and sleeps when idle: the real SandboxPool and generic-pool on the
// scripted runtime (test/support/fake-runtime.ts), with short timers instead of seconds.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { buildApp } from '../../daemon/src/app.ts';
import { SandboxPool, type Lease, type PoolOptions } from '../../daemon/src/pool/sandbox-pool.ts';
import { EmptyToolHost } from '../../daemon/src/rpc/tool-host.ts';
import { FakeRuntime } from '../support/fake-runtime.ts';
import { eventually } from '../support/poll.ts';

const log = pino({ level: 'silent' });

function setup(options: Partial<PoolOptions> & { runtime?: FakeRuntime } = {}) {
  const runtime = options.runtime ?? new FakeRuntime();
  const pool = new SandboxPool({ runtime, size: 1, max: 6, queueMax: 16, log, janitorMs: 60_000, evictMs: 10, tickMs: 10, shrinkMs: 60_000, ...options });
  // In-memory pipes and the pool's unref'd timers hold nothing open.
  const alive = setInterval(() => undefined, 1000);
  const live = async (): Promise<number> => (await runtime.list()).length;
  const close = async (): Promise<void> => {
    await pool.close();
    clearInterval(alive);
  };
  return { runtime, pool, live, close };
}

test('the warm target grows while runs wait for a sandbox, and never past what max leaves', async () => {
  const t = setup();
  await eventually(() => t.pool.stats().warm === 1, 'the pool is warm', 2000, 5);
  assert.equal(t.pool.stats().target, 1);
  // Four runs at once with one warm sandbox: three of them wait for one to start.
  const leases = await Promise.all([1, 2, 3, 4].map(() => t.pool.lease()));
  assert.equal(t.pool.stats().target, 4);
  // Four held: only two of the six may be warm now.
  await eventually(() => t.pool.stats().warm === 2, 'two sandboxes warm beside the four held', 2000, 5);
  assert.ok((await t.live()) <= 6, 'never more than max sandboxes');
  await Promise.all(leases.map((lease) => lease.release(true)));
  await eventually(() => t.pool.stats().warm === 4, 'the grown target is warm once the runs are done', 2000, 5);
  assert.equal(await t.live(), 4);
  await t.close();
});

test('a run that finds a warm sandbox does not grow the target', async () => {
  const t = setup({ size: 2 });
  await eventually(() => t.pool.stats().warm === 2, 'the pool is warm', 2000, 5);
  const lease = await t.pool.lease();
  await lease.release(true);
  assert.equal(t.pool.stats().target, 2);
  await t.close();
});

test('the grown target shrinks back to the pool size once no run waits, and the surplus is removed', async () => {
  const t = setup({ shrinkMs: 30 });
  await eventually(() => t.pool.stats().warm === 1, 'the pool is warm', 2000, 5);
  const leases = await Promise.all([1, 2, 3].map(() => t.pool.lease()));
  await Promise.all(leases.map((lease) => lease.release(true)));
  assert.equal(t.pool.stats().target, 3);
  await eventually(() => t.pool.stats().target === 1, 'the target is back at MCP_BRIDGE_POOL_SIZE', 2000, 5);
  await eventually(async () => t.pool.stats().warm === 1 && (await t.live()) === 1, 'one warm sandbox left', 2000, 5);
  await t.close();
});

test('after the idle timeout the pool keeps no sandbox; a run wakes it and waits for one', async () => {
  const t = setup({ size: 2, idleTimeoutMs: 80 });
  await eventually(() => t.pool.stats().warm === 2, 'the pool is warm', 2000, 5);
  await eventually(() => t.pool.stats().sleeping, 'the pool sleeps', 2000, 5);
  await eventually(async () => (await t.live()) === 0, 'no sandbox is left', 2000, 5);
  assert.deepEqual({ warm: t.pool.stats().warm, starting: t.pool.stats().starting, target: t.pool.stats().target }, { warm: 0, starting: 0, target: 0 });

  const lease: Lease = await t.pool.lease();
  assert.equal(t.pool.stats().sleeping, false);
  assert.equal(t.pool.stats().target, 2, 'waking is not demand: the target is the pool size again');
  await lease.release(true);
  await eventually(() => t.pool.stats().warm === 2, 'warm again after one run', 2000, 5);
  await t.close();
});

test('a run in progress keeps the pool awake past the idle timeout', async () => {
  const t = setup({ idleTimeoutMs: 40 });
  const lease = await t.pool.lease();
  await new Promise((resolve) => setTimeout(resolve, 150));
  assert.equal(t.pool.stats().sleeping, false);
  await lease.release(true);
  await eventually(() => t.pool.stats().sleeping, 'the pool sleeps once the run is done', 2000, 5);
  await t.close();
});

test('wake() warms a sleeping pool with no run', async () => {
  const t = setup({ size: 2, idleTimeoutMs: 50 });
  await eventually(async () => t.pool.stats().sleeping && (await t.live()) === 0, 'the pool sleeps', 2000, 5);
  t.pool.wake();
  assert.equal(t.pool.stats().sleeping, false);
  await eventually(() => t.pool.stats().warm === 2, 'warm again after wake()', 2000, 5);
  await t.close();
});

test('idle timeout 0 never sleeps', async () => {
  const t = setup({ idleTimeoutMs: 0 });
  await eventually(() => t.pool.stats().warm === 1, 'the pool is warm', 2000, 5);
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(t.pool.stats().sleeping, false);
  assert.equal(t.pool.stats().warm, 1);
  await t.close();
});

test('every control API request wakes the pool (a shim connecting asks GET /v1/status)', async () => {
  let wakes = 0;
  const app = buildApp({
    runs: { run: async () => assert.fail('no run') },
    toolHost: new EmptyToolHost(),
    outputMode: 'toon',
    logger: log,
    status: () => ({}) as never,
    requestShutdown: () => undefined,
    maxCodeBytes: 1024,
    wake: () => void wakes++,
  });
  await app.inject({ method: 'GET', url: '/v1/status' });
  await app.inject({ method: 'GET', url: '/v1/nothing-here' });
  assert.equal(wakes, 2);
  await app.close();
});

test('firstStart() resolves once the first sandbox is warm, and rejects with the first failed creation', async () => {
  const t = setup();
  try {
    await t.pool.firstStart();
    assert.equal(await t.live(), 1);
    await eventually(() => t.pool.stats().warm === 1, 'the first sandbox is warm', 2000, 5);
  } finally {
    await t.close();
  }

  const runtime = new FakeRuntime({ failStart: () => new Error('no Landlock here') });
  const pool = new SandboxPool({ runtime, size: 1, max: 6, queueMax: 16, log, janitorMs: 60_000, evictMs: 10, tickMs: 10, shrinkMs: 60_000 });
  await assert.rejects(pool.firstStart(), /no Landlock here/);
  await pool.close();
});

test('firstLaunch() resolves once the first sandbox is launched, before its agent is ready; and when its start fails', async () => {
  const t = setup({ runtime: new FakeRuntime({ readyDelayMs: 150 }) });
  try {
    await t.pool.firstLaunch();
    assert.equal(await t.live(), 1, 'the first sandbox is launched');
    assert.equal(t.pool.stats().warm, 0, 'and not warm yet');
    await t.pool.firstStart();
    await eventually(() => t.pool.stats().warm === 1, 'the first sandbox is warm', 2000, 5);
  } finally {
    await t.close();
  }

  const runtime = new FakeRuntime({ failStart: () => new Error('no Landlock here') });
  const pool = new SandboxPool({ runtime, size: 1, max: 6, queueMax: 16, log, janitorMs: 60_000, evictMs: 10, tickMs: 10, shrinkMs: 60_000 });
  await pool.firstLaunch();
  await assert.rejects(pool.firstStart(), /no Landlock here/);
  await pool.close();
});
