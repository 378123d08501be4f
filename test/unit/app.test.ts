// The control API with no engine: buildApp().inject() over every route and error mapping, and the
// real control client against it on a Unix socket for what only a socket shows (timeouts, big bodies).
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { ControlClient, ControlError } from '@mcp-code-mode/client';
import { RunStreamEventSchema, type DaemonStatus, type RunResult } from '@mcp-code-mode/protocol';
import pino from 'pino';
import { buildApp, bodyLimitFor, type AppDeps } from '../../daemon/src/app.ts';
import { BusyError, ShuttingDownError } from '../../daemon/src/pool/run-gate.ts';
import { RpcFailure } from '../../daemon/src/rpc/rpc-failure.ts';
import { EmptyToolHost, type ToolHost } from '../../daemon/src/rpc/tool-host.ts';
import { serverStub } from '../../daemon/src/upstreams/stubs.ts';
import { RuntimeUnavailableError } from '../../daemon/src/runtimes/runtime.ts';
import { SessionManager } from '../../daemon/src/sessions/session-manager.ts';

const ok: RunResult = { status: 'success', summary: 'Success in 1 ms', exitCode: 0, stdout: ['42'], stderr: [], servers: [], durationMs: 1, toolCalls: 0 };

function logCapture(): { logger: pino.Logger; lines: () => Record<string, unknown>[] } {
  const out: string[] = [];
  const stream = new Writable({ write: (chunk, _enc, done) => (out.push(String(chunk)), done()) });
  return { logger: pino({ level: 'info' }, stream), lines: () => out.join('').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

function app(run: AppDeps['runs']['run'], extra: Partial<AppDeps> = {}) {
  const log = logCapture();
  let shutdowns = 0;
  const sessions = new SessionManager({ pool: { take: async () => { throw new Error('no pool'); }, retire: async () => undefined, capacity: 4 }, maxSessions: 2, idleTtlSec: 60, log: log.logger });
  const instance = buildApp({
    runs: { run },
    toolHost: new EmptyToolHost(),
    sessions,
    outputMode: 'toon',
    logger: log.logger,
    status: () => ({ version: 'test' }) as unknown as DaemonStatus,
    requestShutdown: () => void shutdowns++,
    maxCodeBytes: 1024,
    ...extra,
  });
  return { app: instance, log, shutdowns: () => shutdowns };
}

test('POST /v1/run answers a RunResponse, or streams RunStreamEvents ending in the result', async () => {
  const { app: a } = app(async (_input, options) => {
    options?.onOutput?.('stdout', '42\n');
    return ok;
  });
  const plain = await a.inject({ method: 'POST', url: '/v1/run', payload: { code: 'print(42)' } });
  assert.equal(plain.statusCode, 200);
  assert.equal(plain.json().result.status, 'success');
  assert.match(plain.json().text, /42/);
  const streamed = await a.inject({ method: 'POST', url: '/v1/run', payload: { code: 'print(42)' }, headers: { accept: 'application/x-ndjson' } });
  const events = streamed.body.trim().split('\n').map((l) => RunStreamEventSchema.parse(JSON.parse(l)));
  assert.deepEqual(events.map((e) => e.type), ['output', 'result']);
  await a.close();
});

test('what stops a run before it starts maps to the catalogue: busy, shutting_down, engine_unavailable', async () => {
  const cases: [Error, number, string][] = [
    [new BusyError(3, 64), 503, 'busy'],
    [new ShuttingDownError(), 503, 'shutting_down'],
    [new RuntimeUnavailableError('the engine is down'), 503, 'engine_unavailable'],
  ];
  for (const [err, status, code] of cases) {
    const { app: a } = app(async () => {
      throw err;
    });
    const plain = await a.inject({ method: 'POST', url: '/v1/run', payload: { code: 'x' } });
    assert.equal(plain.statusCode, status);
    assert.equal(plain.json().error.code, code);
    const streamed = await a.inject({ method: 'POST', url: '/v1/run', payload: { code: 'x' }, headers: { accept: 'application/x-ndjson' } });
    const last = RunStreamEventSchema.parse(JSON.parse(streamed.body.trim()));
    assert.ok(last.type === 'error' && last.error.code === code);
    await a.close();
  }
});

test('an unexpected error in a run is internal and logged, streamed or not', async () => {
  const { app: a, log } = app(async () => {
    throw new TypeError('a bug');
  });
  const plain = await a.inject({ method: 'POST', url: '/v1/run', payload: { code: 'x' } });
  assert.equal(plain.statusCode, 500);
  assert.equal(plain.json().error.code, 'internal');
  const streamed = await a.inject({ method: 'POST', url: '/v1/run', payload: { code: 'x' }, headers: { accept: 'application/x-ndjson' } });
  const last = RunStreamEventSchema.parse(JSON.parse(streamed.body.trim()));
  assert.ok(last.type === 'error' && last.error.code === 'internal' && /a bug/.test(last.error.message));
  const errors = log.lines().filter((l) => l.level === 50);
  assert.equal(errors.length, 2, 'both the plain and the streamed failure are in the log');
  assert.ok(errors.every((l) => (l.err as { message?: string }).message === 'a bug'));
  await a.close();
});

test('code past the body limit is a validation_error naming MCP_BRIDGE_MAX_CODE_BYTES, streamed or not; other routes get request_too_large', async () => {
  let ran = 0;
  const { app: a } = app(async () => (ran++, ok));
  const code = 'x'.repeat(bodyLimitFor(1024) + 10);
  for (const headers of [{}, { accept: 'application/x-ndjson' }]) {
    const res = await a.inject({ method: 'POST', url: '/v1/run', payload: { code }, headers });
    assert.equal(res.statusCode, 200);
    const body = 'accept' in headers ? RunStreamEventSchema.parse(JSON.parse(res.body.trim())) : { type: 'result' as const, ...res.json() };
    assert.ok(body.type === 'result');
    assert.equal(body.result.status, 'validation_error');
    assert.match(body.result.error!.message, /^code: the request is \d+ bytes, over the daemon's 71680-byte body limit, so its code is over the 1024-byte limit \(MCP_BRIDGE_MAX_CODE_BYTES\)/);
  }
  const other = await a.inject({ method: 'POST', url: '/v1/reload', payload: { pad: code } });
  assert.equal(other.statusCode, 413);
  assert.equal(other.json().error.code, 'request_too_large');
  assert.equal(ran, 0);
  await a.close();
});

test('a bad body, an unknown route and an unknown session are catalogue errors; shutdown is asked for once', async () => {
  const { app: a, shutdowns } = app(async () => ok);
  const bad = await a.inject({ method: 'POST', url: '/v1/run', payload: '{not json', headers: { 'content-type': 'application/json' } });
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.json().error.code, 'bad_request');
  const mode = await a.inject({ method: 'POST', url: '/v1/run', payload: { code: 'x', outputMode: 'yaml' } });
  assert.equal(mode.statusCode, 400);
  assert.match(mode.json().error.message, /^invalid run request: outputMode: /);
  const missing = await a.inject({ method: 'GET', url: '/v1/nothing' });
  assert.equal(missing.statusCode, 404);
  assert.equal(missing.json().error.code, 'not_found');
  const session = await a.inject({ method: 'DELETE', url: '/v1/sessions/ses_nope' });
  assert.equal(session.statusCode, 404);
  assert.equal(session.json().error.code, 'unknown_session');
  assert.deepEqual((await a.inject({ method: 'GET', url: '/v1/sessions' })).json(), { sessions: [], max: 2, idleTtlSec: 60 });
  assert.deepEqual((await a.inject({ method: 'GET', url: '/v1/servers' })).json(), { servers: [], problems: [] });
  assert.equal((await a.inject({ method: 'GET', url: '/v1/status' })).json().version, 'test');
  assert.equal((await a.inject({ method: 'POST', url: '/v1/reload' })).json().applied, false);
  assert.deepEqual((await a.inject({ method: 'POST', url: '/v1/shutdown' })).json(), { ok: true });
  await new Promise((r) => setImmediate(r));
  assert.equal(shutdowns(), 1);
  await a.close();
});

test('GET /v1/stubs/:alias: the stub module of the server with that index alias; an unknown alias names the known ones', async () => {
  const sum = { name: 'get-sum', alias: 'get_sum', description: 'Adds.', inputSchema: { type: 'object', properties: { a: { type: 'number' } }, required: ['a'] } };
  const described: string[][] = [];
  const host: ToolHost = Object.assign(new EmptyToolHost(), {
    discovered: () => ['calc', 'my-files', 'down'],
    describe: async (servers: string[]) => {
      described.push(servers);
      if (servers[0] === 'down') throw new RpcFailure('server_unavailable', 'MCP server "down" failed to start: spawn ENOENT');
      // A run's alias for a lone server; the route gives the index's.
      return servers.map((name) => ({ name, alias: 'x', tools: [sum] }));
    },
  });
  const { app: a } = app(async () => ok, { toolHost: host });
  const res = await a.inject({ method: 'GET', url: '/v1/stubs/my_files' });
  assert.equal(res.statusCode, 200);
  assert.deepEqual(res.json(), { name: 'my-files', alias: 'my_files', stub: serverStub({ name: 'my-files', alias: 'my_files', tools: [sum] }) });
  assert.match(res.json().stub, /await mcp_my_files\.<tool>[\s\S]*async def get_sum\(\*, a: float\)/);
  assert.deepEqual(described, [['my-files']]);
  const unknown = await a.inject({ method: 'GET', url: '/v1/stubs/nope' });
  assert.equal(unknown.statusCode, 404);
  assert.deepEqual(unknown.json().error, { code: 'unknown_server', message: 'no MCP server has the alias "nope"; the configured ones are calc, my_files, down' });
  const down = await a.inject({ method: 'GET', url: '/v1/stubs/down' });
  assert.equal(down.statusCode, 503);
  assert.deepEqual(down.json().error, { code: 'server_unavailable', message: 'MCP server "down" (down) is unavailable: MCP server "down" failed to start: spawn ENOENT' });
  const empty = app(async () => ok).app;
  const none = await empty.inject({ method: 'GET', url: '/v1/stubs/calc' });
  assert.equal(none.json().error.message, 'no MCP server has the alias "calc"; no MCP servers are configured');
  await empty.close();
  await a.close();
});

test('the control client: a daemon that accepts and never answers is a daemon_timeout naming the socket', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'mcm-hang-')), 'daemon.sock');
  const silent = createServer(() => undefined);
  await new Promise<void>((resolve) => silent.listen(path, resolve));
  const client = new ControlClient(path);
  await assert.rejects(client.get('/v1/status', { timeoutMs: 300 }), (err: ControlError) => err.code === 'daemon_timeout' && err.message.includes(path) && /300 ms/.test(err.message));
  assert.equal(await client.alive({ timeoutMs: 200, answerTimeoutMs: 200 }), false);
  await assert.rejects(client.run({ code: 'x' }, { answerTimeoutMs: 200 }), (err: ControlError) => err.code === 'daemon_timeout');
  const aborted = new AbortController();
  const pending = client.post('/v1/shutdown', {}, { signal: aborted.signal });
  aborted.abort(new Error('caller gave up'));
  await assert.rejects(pending, /caller gave up/);
  silent.close();
});

test('the control client: a run too large for the daemon is a validation_error result over a real socket', async () => {
  const { app: a } = app(async () => ok);
  const path = join(mkdtempSync(join(tmpdir(), 'mcm-big-')), 'daemon.sock');
  await a.listen({ path });
  const client = new ControlClient(path);
  const answer = await client.run({ code: 'x'.repeat(3 * 1024 * 1024) });
  assert.equal(answer.result.status, 'validation_error');
  assert.match(answer.result.error!.message, /MCP_BRIDGE_MAX_CODE_BYTES/);
  await a.close();
});
