// The daemon's counts and metrics: /status counts runs always; prom-client is loaded only for the
// health endpoint, the one place that serves the Prometheus metrics.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import pino from 'pino';
import type { PoolStatus } from '@mcp-code-mode/protocol';
import { Observability } from '../../daemon/src/observability.ts';
import { EmptyToolHost } from '../../daemon/src/rpc/tool-host.ts';
import { freePort } from '../support/ports.ts';

const pool: PoolStatus = { warm: 2, starting: 0, busy: 0, removing: 0, queued: 0, target: 2, sleeping: false, created: 2, failedStarts: 0 };
const promClientLoaded = (): boolean => Object.keys(createRequire(import.meta.url).cache).some((path) => path.includes('/node_modules/prom-client/'));

function observability(httpPort: number): Observability {
  return new Observability({
    pool: { stats: () => pool },
    toolHost: new EmptyToolHost(),
    info: { version: '0', engine: { name: 'bwrap', version: '0.8.0', via: 'test' }, image: 'rootfs', socket: '/tmp/s' },
    runtime: { kind: 'bwrap', name: 'bwrap', version: '0.8.0' },
    httpPort,
    log: pino({ level: 'silent' }),
  });
}

// In this order: the first must run before anything in this process loads prom-client.
test('without the health endpoint: /status counts runs and tool calls, and prom-client is never loaded', async () => {
  const o = observability(0);
  await o.loadMetrics();
  assert.deepEqual(await o.startHealth(), { enabled: false });
  o.onRun('success', 5);
  o.onRun('made-up', 5);
  o.onToolCall('github', 'ok', 3);
  assert.deepEqual(o.status().runs, { total: 2, success: 1, error: 1, timeout: 0, validation_error: 0, toolCalls: 1 });
  assert.equal(promClientLoaded(), false);
  await o.close();
});

test('with the health endpoint: the metrics are loaded before any run and served on /metrics', async () => {
  const o = observability(await freePort());
  await o.loadMetrics();
  assert.equal(promClientLoaded(), true);
  o.onRun('success', 5);
  o.onToolCall('github', 'ok', 3);
  const http = await o.startHealth();
  assert.ok(http.enabled && http.port, JSON.stringify(http));
  try {
    const text = await (await fetch(`http://127.0.0.1:${http.port}/metrics`)).text();
    assert.match(text, /mcp_code_mode_runs_total\{status="success"\} 1/);
    assert.match(text, /mcp_code_mode_tool_call_duration_seconds_count\{server="github",outcome="ok"\} 1/);
    assert.match(text, /mcp_code_mode_runtime_info\{runtime="bwrap"/);
    assert.deepEqual(o.status().runs, { total: 1, success: 1, error: 0, timeout: 0, validation_error: 0, toolCalls: 1 });
  } finally {
    await o.close();
  }
});
