import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DaemonMetrics } from '../../daemon/src/metrics.ts';
import { RunCounter } from '../../daemon/src/run-counts.ts';
import { RpcFailure, type RpcContext } from '../../daemon/src/rpc/rpc-failure.ts';
import { RpcRouter } from '../../daemon/src/rpc/rpc-router.ts';
import { EmptyToolHost } from '../../daemon/src/rpc/tool-host.ts';

const pool = () => ({ warm: 0, starting: 0, busy: 0, removing: 0, queued: 0, target: 0, sleeping: false, created: 0, failedStarts: 0 });

test('run counts by status feed /status; an unknown status counts as error', async () => {
  const c = new RunCounter();
  const m = new DaemonMetrics(pool, { processMetrics: false });
  for (const status of ['success', 'success', 'validation_error', 'weird']) {
    c.observeRun(status);
    m.observeRun(status, 10);
  }
  c.observeToolCall();
  assert.deepEqual(c.snapshot(), { total: 4, success: 2, error: 1, timeout: 0, validation_error: 1, toolCalls: 1 });
  assert.match((await m.exposition()).body, /mcp_code_mode_runs_total\{status="error"\} 1/);
});

test('two metric sets do not share a registry (no global state)', async () => {
  const a = new DaemonMetrics(pool, { processMetrics: false });
  const b = new DaemonMetrics(pool, { processMetrics: false });
  a.observeRun('success', 10);
  assert.match((await b.exposition()).body, /mcp_code_mode_runs_total\{status="success"\} 0/);
});

test('process metrics are included by default', async () => {
  const text = (await new DaemonMetrics(pool).exposition()).body;
  assert.match(text, /^mcp_code_mode_process_resident_memory_bytes \d+/m);
});

class FakeHost extends EmptyToolHost {
  override async handle(method: string, params: Record<string, unknown>): Promise<unknown> {
    if (params.tool === 'fails') throw new RpcFailure('tool_error', 'nope');
    if (params.tool === 'is_error') return { content: [], isError: true };
    return { content: [], method };
  }
}

test('the RPC router times call_tool by allowed server and outcome, and passes everything through', async () => {
  const m = new DaemonMetrics(pool, { processMetrics: false });
  const counts = new RunCounter();
  let t = 0;
  const onToolCall = (server: string, outcome: 'ok' | 'error' | 'cancelled', ms: number): void => {
    counts.observeToolCall();
    m.observeToolCall(server, outcome, ms);
  };
  const host = new RpcRouter({ host: new FakeHost(), onToolCall, now: () => (t += 50) });
  const ctx: RpcContext = { allowed: new Set(['gh']), signal: new AbortController().signal };
  await host.handle('call_tool', { server: 'gh', tool: 'ok' }, ctx);
  await host.handle('call_tool', { server: 'gh', tool: 'is_error' }, ctx);
  await assert.rejects(host.handle('call_tool', { server: 'gh', tool: 'fails' }, ctx), RpcFailure);
  // A name the run may not use never becomes a label value.
  await host.handle('call_tool', { server: 'attacker-chosen-name', tool: 'ok' }, ctx);
  await host.handle('list_tools', { server: 'gh' }, ctx);
  const text = (await m.exposition()).body;
  assert.match(text, /tool_call_duration_seconds_count\{server="gh",outcome="ok"\} 1/);
  assert.match(text, /tool_call_duration_seconds_count\{server="gh",outcome="error"\} 2/);
  assert.match(text, /tool_call_duration_seconds_sum\{server="gh",outcome="ok"\} 0.05/);
  assert.match(text, /tool_call_duration_seconds_count\{server="unknown",outcome="ok"\} 1/);
  assert.doesNotMatch(text, /attacker/);
  assert.equal(counts.snapshot().toolCalls, 4);
});

test('the RPC router sends saved-tool methods to the skill store, refused when there is none', async () => {
  const router = new RpcRouter({ host: new FakeHost() });
  const ctx: RpcContext = { allowed: new Set(), signal: new AbortController().signal };
  await assert.rejects(router.handle('save_tool', { name: 'x', source: 'def x(): pass' }, ctx), (err: RpcFailure) => err.code === 'unknown_method' && /saved tools/.test(err.message));
  assert.deepEqual(await router.handle('list_tools', { server: 'gh' }, ctx), { content: [], method: 'list_tools' });
});

test('the metrics name the sandbox runtime', async () => {
  const m = new DaemonMetrics(pool, { processMetrics: false, runtime: { kind: 'bwrap', name: 'bwrap', version: '0.8.0' } });
  assert.match((await m.exposition()).body, /^mcp_code_mode_runtime_info\{runtime="bwrap",name="bwrap",version="0.8.0"\} 1$/m);
});
