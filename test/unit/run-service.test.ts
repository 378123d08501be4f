// The straight run path with no engine: the real RunService, RunLoop, SandboxPool, Sandbox and
// SessionManager on a scripted runtime (test/support/fake-runtime.ts).
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { after, test } from 'node:test';
import type { ServerInfo } from '@mcp-code-mode/protocol';
import pino from 'pino';
import { SandboxPool } from '../../daemon/src/pool/sandbox-pool.ts';
import { RpcFailure, type RpcContext } from '../../daemon/src/rpc/rpc-failure.ts';
import { RpcRouter } from '../../daemon/src/rpc/rpc-router.ts';
import { EmptyToolHost } from '../../daemon/src/rpc/tool-host.ts';
import { RunService, type RunLimits } from '../../daemon/src/runs/run-service.ts';
import type { Sandbox } from '../../daemon/src/sandbox/sandbox.ts';
import { SessionManager } from '../../daemon/src/sessions/session-manager.ts';
import { FakeRuntime, type AgentScript } from '../support/fake-runtime.ts';
import { eventually } from '../support/poll.ts';

const log = pino({ level: 'silent' });
const LIMITS: RunLimits = { defaultTimeoutSec: 5, maxTimeoutSec: 10, maxOutputBytes: 1024, maxCodeBytes: 2048, maxToolCalls: 3, maxConcurrentCalls: 2 };

/** A tool host with one server `srv` whose `call_tool` answers after `delayMs`, counting calls in flight. */
class ScriptedHost extends EmptyToolHost {
  inFlight = 0;
  maxInFlight = 0;
  calls = 0;
  constructor(private readonly delayMs = 0) {
    super();
  }
  override discovered(): string[] {
    return ['srv', 'other'];
  }
  override async describe(servers: string[]): Promise<ServerInfo[]> {
    const unknown = servers.find((s) => !this.discovered().includes(s));
    if (unknown) throw new RpcFailure('unknown_server', `unknown MCP server "${unknown}"`);
    return servers.map((name) => ({ name, alias: name, tools: [] }));
  }
  override async handle(method: string, params: Record<string, unknown> = {}, ctx?: RpcContext): Promise<unknown> {
    if (method !== 'call_tool') return super.handle(method, params);
    if (!ctx?.allowed.has(String(params.server))) throw new RpcFailure('server_not_allowed', `not allowed: ${String(params.server)}`);
    this.calls++;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await delay(this.delayMs);
    this.inFlight--;
    return { content: [{ type: 'text', text: 'ok' }] };
  }
}

function setup(script?: AgentScript, options: { sessions?: boolean; host?: ScriptedHost; limits?: Partial<RunLimits> } = {}) {
  const runtime = new FakeRuntime(script ? { script } : {});
  const pool = new SandboxPool({ runtime, size: 1, max: 4, queueMax: 4, log, janitorMs: 60_000 });
  const host = options.host ?? new ScriptedHost();
  const sessions = options.sessions ? new SessionManager<Sandbox>({ pool, maxSessions: 2, idleTtlSec: 60, log }) : undefined;
  const runs = new RunService({ pool, router: new RpcRouter({ host }), limits: { ...LIMITS, ...options.limits }, log, sessions });
  // In-memory pipes and the daemon's unref'd timers hold nothing open; a real daemon has its socket.
  const alive = setInterval(() => undefined, 1000);
  const close = async (): Promise<void> => {
    await sessions?.close();
    await pool.close();
    clearInterval(alive);
  };
  // A test that fails before its close must still end the file, not hang it on `alive`.
  after(close);
  return { runtime, pool, runs, host, sessions, close };
}

test('a run prints, succeeds, and its sandbox is removed just after the answer', async () => {
  const t = setup();
  const result = await t.runs.run({ code: 'print(1)' });
  assert.equal(result.status, 'success');
  assert.deepEqual(result.stdout, ['ran: print(1)']);
  const [agent] = t.runtime.executed();
  assert.ok(agent);
  assert.ok(!t.runtime.removed.includes(agent.id), 'removal waits until the answer is written');
  await eventually(() => t.runtime.removed.includes(agent.id), 'the sandbox is removed after the answer', 5000, 1);
  await t.close();
});

test('bad input is a validation_error naming the field and the limit; nothing runs', async () => {
  const t = setup();
  const cases: [unknown, RegExp][] = [
    [{}, /^code: /],
    [{ code: 'x', timeout: 1.5 }, /^timeout: timeout must be a whole number/],
    [{ code: 'x'.repeat(3000) }, /^code: 3000 bytes is over the 2048-byte limit \(MCP_BRIDGE_MAX_CODE_BYTES\)$/],
    [{ code: 'x', servers: ['nope'] }, /^servers: unknown MCP server "nope"$/],
    [{ code: 'x', session: 'new' }, /^session: this daemon runs without sessions$/],
    ['not an object', /^input: /],
  ];
  for (const [input, message] of cases) {
    const result = await t.runs.run(input);
    assert.equal(result.status, 'validation_error', JSON.stringify(input));
    assert.match(result.error!.message, message);
  }
  assert.equal(t.runtime.executed().length, 0);
  await t.close();
});

test('a timeout keeps the output so far, and the sandbox is gone before the answer', async () => {
  const t = setup((agent, execute) => agent.print(execute.id, 'started\n'));
  const result = await t.runs.run({ code: 'hang', timeout: 1 });
  assert.equal(result.status, 'timeout');
  assert.equal(result.error!.type, 'Timeout');
  assert.deepEqual(result.stdout, ['started']);
  assert.ok(t.runtime.removed.includes(t.runtime.executed()[0]!.id));
  await t.close();
});

test('cancelling a run kills its sandbox at once and says so', async () => {
  const t = setup(() => undefined);
  const control = new AbortController();
  const running = t.runs.run({ code: 'hang' }, { signal: control.signal });
  await eventually(() => t.runtime.executed().length > 0, 'the code runs', 5000, 1);
  control.abort();
  const result = await running;
  assert.equal(result.error!.type, 'Cancelled');
  assert.ok(t.runtime.removed.includes(t.runtime.executed()[0]!.id));
  await t.close();
});

test('a sandbox that dies is asked why: out of memory is reported as such', async () => {
  const t = setup((agent) => agent.die({ kind: 'oom' }));
  const result = await t.runs.run({ code: 'x = [0] * 10**12' });
  assert.equal(result.status, 'error');
  assert.equal(result.error!.type, 'OutOfMemory');
  assert.match(result.error!.message, /MCP_BRIDGE_MEMORY/);
  await t.close();
});

test('a frame that breaks the protocol fails the run as ProtocolError and removes the sandbox', async () => {
  const t = setup((agent) => agent.raw('\x1e{"v":1,"id":"x","type":"result"}\n'));
  const result = await t.runs.run({ code: 'forge' });
  assert.equal(result.error!.type, 'ProtocolError');
  assert.match(result.error!.message, /malformed frame from the sandbox: re: /);
  assert.ok(t.runtime.removed.includes(t.runtime.executed()[0]!.id));
  await t.close();
});

test('tool calls go through the router within the allowlist; past MCP_BRIDGE_MAX_TOOL_CALLS a call is refused by name', async () => {
  const answers: unknown[] = [];
  const t = setup(async (agent, execute) => {
    for (let i = 0; i < 4; i++) answers.push(await agent.rpc('call_tool', { server: 'srv', tool: 't', arguments: {} }));
    answers.push(await agent.rpc('call_tool', { server: 'other', tool: 't', arguments: {} }));
    agent.finish(execute.id);
  });
  const result = await t.runs.run({ code: 'calls', servers: ['srv'] });
  assert.equal(result.status, 'success');
  assert.equal(result.toolCalls, 3);
  assert.equal(t.host.calls, 3);
  const frames = answers as { ok: boolean; error?: { code: string; message: string } }[];
  assert.deepEqual(frames.map((f) => f.ok), [true, true, true, false, false]);
  assert.equal(frames[3]!.error!.code, 'budget_exceeded');
  assert.match(frames[3]!.error!.message, /3 tool calls, the most MCP_BRIDGE_MAX_TOOL_CALLS \(3\) allows/);
  assert.equal(frames[4]!.error!.code, 'budget_exceeded', 'a call past the budget is refused before the allowlist is even asked');
  await t.close();
});

test('MCP_BRIDGE_MAX_CONCURRENT_CALLS bounds the calls in flight; the rest wait and all are answered', async () => {
  const host = new ScriptedHost(20);
  const t = setup(
    async (agent, execute) => {
      const all = await Promise.all(Array.from({ length: 6 }, () => agent.rpc('call_tool', { server: 'srv', tool: 't', arguments: {} })));
      agent.print(execute.id, `${all.filter((f) => f.type === 'rpc_result' && f.ok).length}\n`);
      agent.finish(execute.id);
    },
    { host, limits: { maxToolCalls: 100, maxConcurrentCalls: 2 } },
  );
  const result = await t.runs.run({ code: 'gather', servers: ['srv'] });
  assert.deepEqual(result.stdout, ['6']);
  assert.equal(host.maxInFlight, 2);
  await t.close();
});

test('a session keeps its sandbox across runs; a timeout in it ends the session and says so', async () => {
  const t = setup(
    (agent, execute) => {
      if (execute.code === 'hang') return;
      agent.print(execute.id, `${agent.id}\n`);
      agent.finish(execute.id);
    },
    { sessions: true },
  );
  const first = await t.runs.run({ code: 'a', session: 'new', servers: ['srv'] });
  assert.equal(first.session?.state, 'open');
  const id = first.session!.id;
  const second = await t.runs.run({ code: 'b', session: id });
  assert.deepEqual(second.stdout, first.stdout, 'the same sandbox ran both');
  assert.deepEqual(second.servers, ['srv'], "the session's servers when the run names none");
  const widened = await t.runs.run({ code: 'c', session: id, servers: ['other'] });
  assert.equal(widened.status, 'validation_error');
  assert.match(widened.error!.message, /^servers: this session was started with servers \[srv\] and a run in it cannot add other/);
  const timedOut = await t.runs.run({ code: 'hang', session: id, timeout: 1 });
  assert.equal(timedOut.status, 'timeout');
  assert.equal(timedOut.session?.state, 'ended');
  assert.match(timedOut.error!.message, /The session has ended \(a run in it went past its 1 s timeout/);
  const late = await t.runs.run({ code: 'd', session: id });
  assert.equal(late.status, 'validation_error');
  assert.match(late.error!.message, /^session: .* is unknown or has expired: a run in it went past its 1 s timeout/);
  await t.close();
});

test('an exception the code raises with a daemon error name does not end its session', async () => {
  const t = setup((agent, execute) => agent.finish(execute.id, { status: 'error', exitCode: 1, error: { type: 'Timeout', message: 'my own class' } }), { sessions: true });
  const result = await t.runs.run({ code: 'raise Timeout()', session: 'new' });
  assert.equal(result.status, 'error');
  assert.equal(result.session?.state, 'open');
  await t.close();
});
