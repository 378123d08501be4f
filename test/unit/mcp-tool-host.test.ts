import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { pino } from 'pino';
import { z } from 'zod';
import type { DiscoveredServer, DiscoveryReport } from '../../daemon/src/config/discover.ts';
import { RpcFailure, type RpcContext } from '../../daemon/src/rpc/rpc-failure.ts';
import { backoffMs, UpstreamConnection } from '../../daemon/src/upstreams/connection.ts';
import { McpToolHost } from '../../daemon/src/upstreams/mcp-tool-host.ts';
import type { TransportAttempt } from '../../daemon/src/upstreams/transports.ts';

const log = pino({ level: 'silent' });

/** An in-process MCP server "process": every start makes a fresh McpServer on an in-memory pair. */
class FakeServer {
  starts = 0;
  failStarts = 0;
  cancelled = 0;
  calls = 0;
  current: { server: McpServer; transport: InMemoryTransport } | undefined;
  constructor(readonly setup: (server: McpServer, fake: FakeServer) => void = defaultTools) {}

  attempts = (): TransportAttempt[] => [
    {
      kind: 'stdio',
      create: (): Transport => {
        this.starts++;
        if (this.failStarts > 0) {
          this.failStarts--;
          return { start: async () => Promise.reject(new Error('spawn fake-server ENOENT')), send: async () => {}, close: async () => {} };
        }
        const [client, serverSide] = InMemoryTransport.createLinkedPair();
        const server = new McpServer({ name: 'fake', version: '1.0.0' });
        this.setup(server, this);
        void server.connect(serverSide);
        this.current = { server, transport: serverSide };
        return client;
      },
    },
  ];

  /** The "process" exits: its end of the pipe closes. */
  async exit(): Promise<void> {
    await this.current?.transport.close();
  }
}

function defaultTools(server: McpServer, fake: FakeServer): void {
  server.registerTool('echo', { description: 'Echo a message back', inputSchema: { message: z.string() } }, async ({ message }) => {
    fake.calls++;
    return { content: [{ type: 'text', text: message }] };
  });
  server.registerTool('slow', { description: 'Wait until cancelled', inputSchema: {} }, async (_args, extra) => {
    await new Promise<void>((resolve) => extra.signal.addEventListener('abort', () => resolve(), { once: true }));
    fake.cancelled++;
    return { content: [{ type: 'text', text: 'late' }] };
  });
  server.registerTool('die', { description: 'Exit mid-call', inputSchema: {} }, async () => {
    setImmediate(() => void fake.exit());
    return new Promise(() => {});
  });
  server.registerResource('note', 'note://one', { mimeType: 'text/plain' }, async (uri) => ({ contents: [{ uri: uri.href, text: 'hello' }] }));
  server.registerPrompt('greet', { argsSchema: { who: z.string() } }, ({ who }) => ({ messages: [{ role: 'user', content: { type: 'text', text: `hi ${who}` } }] }));
}

const entry = (name: string, env: Record<string, string> = {}): DiscoveredServer => ({
  name,
  config: { transport: 'stdio', command: `${name}-bin`, args: [], env, disabled: false },
  origin: { path: '/cfg/servers.json', label: 'test', scope: 'explicit' },
});
const report = (...servers: DiscoveredServer[]): DiscoveryReport => ({ servers, skipped: [], problems: [], sources: [] });

function host(fakes: Record<string, FakeServer>, options: { now?: () => number; rediscover?: () => Promise<DiscoveryReport>; servers?: DiscoveredServer[]; callTimeoutMs?: number } = {}) {
  return new McpToolHost({
    report: report(...(options.servers ?? Object.keys(fakes).map((n) => entry(n)))),
    log,
    ...(options.rediscover ? { rediscover: options.rediscover } : {}),
    ...(options.callTimeoutMs ? { callTimeoutMs: options.callTimeoutMs } : {}),
    connectionFactory: (server, l) => new UpstreamConnection({ name: server.name, config: server.config, log: l, attempts: fakes[server.name]!.attempts, ...(options.now ? { now: options.now } : {}) }),
  });
}

const ctx = (allowed: string[], extra: Partial<RpcContext> = {}): RpcContext => ({ allowed: new Set(allowed), signal: new AbortController().signal, ...extra });

async function rejects(promise: Promise<unknown>, code: string, message?: RegExp): Promise<RpcFailure> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof RpcFailure, `not an RpcFailure: ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    return err;
  }
  assert.fail(`expected RpcFailure ${code}`);
}

describe('McpToolHost', () => {
  test('describe gives aliases and tools, and names the known servers for an unknown one', async () => {
    const h = host({ 'my-server': new FakeServer(), class: new FakeServer() });
    const infos = await h.describe(['my-server', 'class'], new AbortController().signal);
    assert.deepEqual(infos.map((i) => [i.name, i.alias]), [['my-server', 'my_server'], ['class', 'class_']]);
    assert.deepEqual(infos[0]!.tools.map((t) => t.alias), ['echo', 'slow', 'die']);
    assert.equal(infos[0]!.tools[0]!.inputSchema?.type, 'object');
    await rejects(h.describe(['nope'], new AbortController().signal), 'unknown_server', /unknown MCP server "nope"; configured servers: my-server, class/);
    await h.close();
  });

  test('concurrent first use starts one connection, and it stays across calls', async () => {
    const fake = new FakeServer();
    const h = host({ a: fake });
    await Promise.all(Array.from({ length: 20 }, (_, i) => h.handle('call_tool', { server: 'a', tool: 'echo', arguments: { message: `m${i}` } }, ctx(['a']))));
    await h.describe(['a'], new AbortController().signal);
    assert.equal(fake.starts, 1);
    assert.equal(fake.calls, 20);
    assert.equal(h.status().servers[0]!.state, 'connected');
    await h.close();
  });

  test('every method naming a server enforces the allowlist, whatever the frame says', async () => {
    const h = host({ a: new FakeServer(), b: new FakeServer() });
    const c = ctx(['a']);
    const forged: [string, Record<string, unknown>][] = [
      ['call_tool', { server: 'b', tool: 'echo', arguments: { message: 'x' } }],
      ['list_tools', { server: 'b' }],
      ['query_tool_docs', { server: 'b', detail: 'full' }],
      ['list_resources', { server: 'b' }],
      ['read_resource', { server: 'b', uri: 'note://one' }],
      ['list_prompts', { server: 'b' }],
      ['get_prompt', { server: 'b', name: 'greet', arguments: { who: 'x' } }],
      ['call_tool', { server: 'unknown', tool: 'echo', arguments: {} }],
    ];
    for (const [method, params] of forged) await rejects(h.handle(method, params, c), 'server_not_allowed', /is not available to this run.*this run has: a/);
    const hits = (await h.handle('search_tool_docs', { query: 'echo', limit: 10, detail: 'name' }, c)) as { server: string }[];
    assert.ok(hits.length > 0 && hits.every((hit) => hit.server === 'a'));
    assert.deepEqual(await h.handle('list_servers', {}, c), ['a', 'b']);
    await h.close();
  });

  test('arguments are checked before the call leaves; bad params and methods are named', async () => {
    const fake = new FakeServer();
    const h = host({ a: fake });
    await rejects(h.handle('call_tool', { server: 'a', tool: 'echo', arguments: { message: 5 } }, ctx(['a'])), 'invalid_arguments', /argument "message": expected string, got integer 5/);
    assert.equal(fake.calls, 0);
    await rejects(h.handle('call_tool', { server: 'a', tool: 'nope', arguments: {} }, ctx(['a'])), 'unknown_tool', /has no tool "nope"; its tools: echo, slow, die/);
    await rejects(h.handle('call_tool', { server: 'a', arguments: {} }, ctx(['a'])), 'invalid_request', /call_tool: tool: /);
    await rejects(h.handle('search_tool_docs', { query: '  ' }, ctx(['a'])), 'invalid_request', /query must not be empty/);
    await rejects(h.handle('rm_rf', {}, ctx(['a'])), 'unknown_method', /the methods are call_tool/);
    // A tool may be named by the alias sandbox code sees.
    const doc = (await h.handle('query_tool_docs', { server: 'a', tool: 'echo', detail: 'summary' }, ctx(['a']))) as { call: string }[];
    assert.equal(doc[0]!.call, 'await mcp_a.echo(message: string)');
    await h.close();
  });

  test('resources and prompts go through', async () => {
    const h = host({ a: new FakeServer() });
    const c = ctx(['a']);
    assert.deepEqual(((await h.handle('list_resources', { server: 'a' }, c)) as { uri: string }[]).map((r) => r.uri), ['note://one']);
    assert.deepEqual(await h.handle('read_resource', { server: 'a', uri: 'note://one' }, c), { contents: [{ uri: 'note://one', text: 'hello' }] });
    assert.deepEqual(((await h.handle('list_prompts', { server: 'a' }, c)) as { name: string }[]).map((p) => p.name), ['greet']);
    const prompt = (await h.handle('get_prompt', { server: 'a', name: 'greet', arguments: { who: 7 } }, c)) as { messages: { content: { text: string } }[] };
    assert.equal(prompt.messages[0]!.content.text, 'hi 7');
    await h.close();
  });

  test('a cancelled run cancels its pending call on the server; a call past its timeout is cancelled too', async () => {
    const fake = new FakeServer();
    const h = host({ a: fake }, { callTimeoutMs: 50 });
    const control = new AbortController();
    const pending = h.handle('call_tool', { server: 'a', tool: 'slow', arguments: {} }, ctx(['a'], { signal: control.signal }));
    setTimeout(() => control.abort(), 50);
    await rejects(pending, 'cancelled');
    await rejects(h.handle('call_tool', { server: 'a', tool: 'slow', arguments: {} }, ctx(['a'])), 'timeout', /a\.slow got no answer within 50 ms/);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(fake.cancelled, 2, 'the server saw notifications/cancelled for both');
    await h.close();
  });

  test('tools/list_changed refreshes the cached list', async () => {
    const fake = new FakeServer();
    const h = host({ a: fake });
    assert.equal((await h.describe(['a'], new AbortController().signal))[0]!.tools.length, 3);
    fake.current!.server.registerTool('added', { description: 'new', inputSchema: {} }, async () => ({ content: [] }));
    await new Promise((r) => setTimeout(r, 20));
    const tools = (await h.handle('list_tools', { server: 'a' }, ctx(['a']))) as { name: string }[];
    assert.deepEqual(tools.map((t) => t.name), ['echo', 'slow', 'die', 'added']);
    await h.close();
  });

  test('a server that exits mid-call gives a clear error and is restarted on next use', async () => {
    const fake = new FakeServer();
    const h = host({ a: fake });
    await rejects(h.handle('call_tool', { server: 'a', tool: 'die', arguments: {} }, ctx(['a'])), 'server_exited', /MCP server "a" exited during a\.die.*restarted on next use/);
    const status = h.status().servers[0]!;
    assert.equal(status.state, 'failed');
    assert.match(status.lastError ?? '', /the server exited/);
    const result = await h.handle('call_tool', { server: 'a', tool: 'echo', arguments: { message: 'back' } }, ctx(['a']));
    assert.deepEqual(result, { content: [{ type: 'text', text: 'back' }] });
    assert.equal(fake.starts, 2);
    assert.match(h.status().servers[0]!.lastError ?? '', /exited/, 'the error stays visible after the restart');
    await h.close();
  });

  test('a server that keeps failing to start backs off, and says when it will retry', async () => {
    let now = 1_000_000;
    const fake = new FakeServer();
    fake.failStarts = 3;
    const h = host({ a: fake }, { now: () => now });
    const call = () => h.handle('call_tool', { server: 'a', tool: 'echo', arguments: { message: 'x' } }, ctx(['a']));
    await rejects(call(), 'server_unavailable', /could not be started \(stdio: spawn fake-server ENOENT\)/);
    await rejects(call(), 'server_unavailable', /could not be started/); // first retry is immediate
    await rejects(call(), 'server_unavailable', /keeps failing .*next restart is allowed in 1 s/);
    assert.equal(fake.starts, 2);
    now += 1000;
    await rejects(call(), 'server_unavailable', /could not be started/);
    await rejects(call(), 'server_unavailable', /next restart is allowed in 2 s/);
    now += 2000;
    assert.deepEqual(await call(), { content: [{ type: 'text', text: 'x' }] });
    assert.deepEqual([0, 1, 2, 3, 4, 10].map(backoffMs), [0, 0, 1000, 2000, 4000, 30_000]);
    await h.close();
  });

  test('reload restarts changed servers only, and keeps the old config when the new one is broken', async () => {
    const fakes = { a: new FakeServer(), b: new FakeServer() };
    let next = report(entry('a'), entry('b'));
    const h = host(fakes, { rediscover: async () => next });
    const both = ctx(['a', 'b']);
    await h.handle('call_tool', { server: 'a', tool: 'echo', arguments: { message: 'x' } }, both);
    await h.handle('call_tool', { server: 'b', tool: 'echo', arguments: { message: 'x' } }, both);
    next = report(entry('a'), entry('b', { CHANGED: '1' }));
    const applied = await h.reload();
    assert.deepEqual([applied.applied, applied.servers], [true, ['a', 'b']]);
    await h.handle('call_tool', { server: 'a', tool: 'echo', arguments: { message: 'x' } }, both);
    await h.handle('call_tool', { server: 'b', tool: 'echo', arguments: { message: 'x' } }, both);
    assert.deepEqual([fakes.a.starts, fakes.b.starts], [1, 2]);
    next = { ...report(), problems: [{ path: '/cfg/servers.json', message: 'not valid JSON: Unexpected end of JSON input' }] };
    const refused = await h.reload();
    assert.equal(refused.applied, false);
    assert.match(refused.message, /kept the current servers/);
    assert.deepEqual(refused.problems, [{ path: '/cfg/servers.json', message: 'not valid JSON: Unexpected end of JSON input' }]);
    assert.deepEqual(h.discovered(), ['a', 'b']);
    await h.close();
  });

  test('status never shows env values; errors mask them', async () => {
    const h = host({ a: new FakeServer() }, { servers: [entry('a', { API_KEY: 'sk-very-secret-value' })] });
    const connection = new UpstreamConnection({ name: 'a', config: entry('a', { API_KEY: 'sk-very-secret-value' }).config, log });
    assert.equal(connection.mask('failed with key sk-very-secret-value and postgres://me:pw1234@db/x'), 'failed with key *** and postgres://me:***@db/x');
    assert.doesNotMatch(JSON.stringify(h.status()), /sk-very-secret-value/);
    await h.close();
    await connection.close();
  });
});
