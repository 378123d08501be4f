import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DaemonStatusSchema, type DaemonStatus, type PoolStatus } from '@mcp-code-mode/protocol';
import { buildHealthApp } from '../../daemon/src/health/health-app.ts';
import Fastify from 'fastify';
import { DaemonMetrics } from '../../daemon/src/metrics.ts';
import { ZOD_ONLY_SCHEMAS } from '../../daemon/src/zod-only-schemas.ts';

const pool: PoolStatus = { warm: 2, starting: 0, busy: 1, removing: 0, queued: 3, target: 2, sleeping: false, created: 5, failedStarts: 1 };
const status: DaemonStatus = {
  version: '0.1.0',
  pid: 1,
  uptimeSec: 5,
  rssBytes: 1024,
  engine: { name: 'docker', version: '26', via: 'test' },
  image: 'python:3.12-slim',
  socket: '/tmp/s',
  http: { enabled: true, address: '127.0.0.1', port: 8787 },
  pool,
  servers: [],
  configProblems: [],
  runs: { total: 0, success: 0, error: 0, timeout: 0, validation_error: 0, toolCalls: 0 },
};

function app() {
  const metrics = new DaemonMetrics(() => pool, { processMetrics: false });
  metrics.observeRun('success', 120);
  metrics.observeRun('timeout', 30_000);
  metrics.observeToolCall('github', 'ok', 15);
  return buildHealthApp({ status: () => status, metrics, uptimeSec: () => 5 });
}

test('GET /healthz answers ok', async () => {
  const res = await app().inject({ method: 'GET', url: '/healthz' });
  assert.equal(res.statusCode, 200);
  assert.deepEqual(res.json(), { status: 'ok', uptimeSec: 5 });
});

test('GET /status is the status document', async () => {
  const res = await app().inject({ method: 'GET', url: '/status' });
  assert.deepEqual(DaemonStatusSchema.parse(res.json()), status);
});

test('GET /metrics is Prometheus text with runs, latencies and pool gauges', async () => {
  const res = await app().inject({ method: 'GET', url: '/metrics' });
  assert.equal(res.statusCode, 200);
  assert.match(res.headers['content-type'] as string, /^text\/plain; version=0\.0\.4/);
  const text = res.body;
  assert.match(text, /^# TYPE mcp_code_mode_runs_total counter$/m);
  assert.match(text, /^mcp_code_mode_runs_total\{status="success"\} 1$/m);
  assert.match(text, /^mcp_code_mode_runs_total\{status="timeout"\} 1$/m);
  assert.match(text, /^mcp_code_mode_runs_total\{status="validation_error"\} 0$/m);
  assert.match(text, /^mcp_code_mode_run_duration_seconds_bucket\{le="0.25",status="success"\} 1$/m);
  assert.match(text, /^mcp_code_mode_run_duration_seconds_sum\{status="timeout"\} 30$/m);
  assert.match(text, /^mcp_code_mode_tool_call_duration_seconds_count\{server="github",outcome="ok"\} 1$/m);
  assert.match(text, /^mcp_code_mode_pool_warm 2$/m);
  assert.match(text, /^mcp_code_mode_pool_busy 1$/m);
  assert.match(text, /^mcp_code_mode_pool_queued 3$/m);
  assert.match(text, /^mcp_code_mode_pool_failed_starts 1$/m);
});

test('HEAD works; every other method is 405 with Allow, before any body is read', async () => {
  const a = app();
  assert.equal((await a.inject({ method: 'HEAD', url: '/healthz' })).statusCode, 200);
  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const) {
    const res = await a.inject({ method, url: '/status', payload: method === 'POST' ? 'x'.repeat(10_000) : undefined });
    assert.equal(res.statusCode, 405, method);
    assert.equal(res.headers.allow, 'GET, HEAD');
    assert.equal(res.json().error.code, 'method_not_allowed');
  }
  const unknownPost = await a.inject({ method: 'POST', url: '/v1/shutdown' });
  assert.equal(unknownPost.statusCode, 405);
});

test('an unknown path is 404 not_found', async () => {
  const res = await app().inject({ method: 'GET', url: '/v1/run' });
  assert.equal(res.statusCode, 404);
  assert.equal(res.json().error.code, 'not_found');
});

test('the daemon\'s Fastify servers load no JSON schema compiler: a route that declares a schema is refused with the reason', async () => {
  const app = Fastify({ logger: false, schemaController: ZOD_ONLY_SCHEMAS });
  app.post('/x', { schema: { body: { type: 'object' } } }, async () => 'ok');
  await assert.rejects(async () => void (await app.ready()), /declared a JSON schema for validation.*zod/);
  await app.close();
  const plain = Fastify({ logger: false, schemaController: ZOD_ONLY_SCHEMAS });
  plain.post('/x', async (request) => ({ got: request.body }));
  const res = await plain.inject({ method: 'POST', url: '/x', payload: { a: 1 } });
  assert.deepEqual(res.json(), { got: { a: 1 } });
  await plain.close();
});
