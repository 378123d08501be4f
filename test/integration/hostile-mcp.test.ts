// Hostile code and hostile MCP servers: servers that crash, hang or write garbage; tool calls with
// wrong types, for servers outside the allowlist, with huge arguments or results, ten thousand at
// once. The servers are test/fixtures/servers/hostile-server.mjs. docs/SECURITY.md: ids M1...
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { availableEngines } from '../support/engines.ts';
import { CASE, childPids, eventually, SERVER_SECRET, startHostileDaemon, type HostileDaemon } from '../support/hostile.ts';

const engines = await availableEngines({ bwrap: true });

/** The agent's own RPC client, found from user code: it sends whatever frames it is given. */
const RPC = "import gc\nrpc = next(o for o in gc.get_objects() if type(o).__name__ == 'RpcClient')\n";

interface ServerRow {
  name: string;
  state: string;
}

for (const engine of engines) {
  describe(`hostile MCP on ${engine.name}`, () => {
    let h: HostileDaemon;
    const run = (code: string, extra: Record<string, unknown> = {}) => h.run(code, extra);
    const serverState = async (name: string): Promise<string | undefined> =>
      ((await h.daemon.client.get('/v1/status')) as { servers: ServerRow[] }).servers.find((s) => s.name === name)?.state;
    const seenChildren = new Set<number>();
    const noteChildren = (): void => childPids(h.daemon.proc.pid!).forEach((pid) => seenChildren.add(pid));

    before(async () => {
      // M13 makes 10,000 calls in one run: past the default MCP_BRIDGE_MAX_TOOL_CALLS (1,000).
      h = await startHostileDaemon(engine, { MCP_BRIDGE_MAX_TOOL_CALLS: '20000' });
    });
    after(async () => {
      await h?.dispose();
    });

    test('M1 a server that crashes mid-call: the call fails clearly, the next call restarts it', CASE, async () => {
      const code = [
        'first = (await mcp_fragile.pid())["pid"]',
        'try:',
        '    await mcp_fragile.crash()',
        'except runtime.MCPError as e:',
        '    print(e.code, "|", e)',
        'second = (await mcp_fragile.pid())["pid"]',
        'print("restarted", first != second)',
      ].join('\n');
      const r = await run(`from mcp import runtime\n${code}`, { servers: ['fragile'], timeout: 60 });
      assert.equal(r.status, 'success', JSON.stringify(r));
      assert.equal(r.stdout[0], 'server_exited | MCP server "fragile" exited during fragile.crash; it is restarted on next use');
      assert.equal(r.stdout[1], 'restarted True');
      assert.equal(r.toolCalls, 3);
      noteChildren();
      await h.recovered();
    });

    test('M2 a server that hangs: the run times out, and the server still serves the next run', CASE, async () => {
      const r = await run('print("calling", flush=True)\nawait mcp_hostile.hang()', { servers: ['hostile'], timeout: 3 });
      assert.equal(r.status, 'timeout', JSON.stringify(r));
      assert.deepEqual(r.stdout, ['calling']);
      assert.equal(r.toolCalls, 1);
      const next = await run('print(await mcp_hostile.echo(text="still serving"))', { servers: ['hostile'] });
      assert.deepEqual(next.stdout, ['still serving'], JSON.stringify(next));
      noteChildren();
      await h.recovered();
    });

    test('M3 a server that hangs, with a per-call timeout: the code gets TimeoutError and goes on', CASE, async () => {
      const code = 'import asyncio\ntry:\n    await mcp_hostile.hang.with_timeout(1)()\nexcept asyncio.TimeoutError as e:\n    print("timeout:", e)\nprint(await mcp_hostile.echo(text="after"))';
      const r = await run(code, { servers: ['hostile'], timeout: 60 });
      assert.equal(r.status, 'success', JSON.stringify(r));
      assert.deepEqual(r.stdout, ['timeout: hostile.hang timed out after 1s', 'after']);
      await h.recovered();
    });

    test('M4 a server that writes garbage to stdout mid-call: the answers still arrive', CASE, async () => {
      const r = await run('print(await mcp_hostile.garble())\nprint(await mcp_hostile.echo(text="clean"))', { servers: ['hostile'] });
      assert.equal(r.status, 'success', JSON.stringify(r));
      assert.deepEqual(r.stdout, ['after garbage', 'clean']);
      await h.recovered();
    });

    test('M5 a server that writes garbage before it speaks MCP still connects', CASE, async () => {
      const r = await run('print(await mcp_garbled.echo(text="through the noise"))', { servers: ['garbled'] });
      assert.equal(r.status, 'success', JSON.stringify(r));
      assert.deepEqual(r.stdout, ['through the noise']);
      noteChildren();
      await h.recovered();
    });

    test('M6 a tool call with wrong argument types is refused before it leaves, naming the argument', CASE, async () => {
      const r = await run('print(await mcp_hostile.add(a="one", b=2))', { servers: ['hostile'] });
      assert.equal(r.status, 'error');
      assert.equal(r.error?.type, 'MCPError');
      assert.equal(r.error?.message, 'invalid arguments for hostile.add: argument "a": expected number, got string "one"');
      // A missing argument is caught in the sandbox already, by the proxy's signature; the daemon's check stays the authority.
      const missing = await run('print(await mcp_hostile.add(a=1))', { servers: ['hostile'] });
      assert.equal(missing.error?.type, 'TypeError');
      assert.match(missing.error!.message, /missing required keyword argument 'b'/);
      const forged = await run('from mcp import runtime\nprint(await runtime.call_tool("hostile", "add", {"a": 1}))', { servers: ['hostile'] });
      assert.equal(forged.error?.type, 'MCPError');
      assert.match(forged.error!.message, /^invalid arguments for hostile\.add: .*"b"/);
      await h.recovered();
    });

    test('M7 a call to a tool the server does not have is an MCPError listing its tools', CASE, async () => {
      const r = await run('from mcp import runtime\nawait runtime.call_tool("hostile", "rm_rf", {})', { servers: ['hostile'] });
      assert.equal(r.error?.type, 'MCPError', JSON.stringify(r));
      assert.match(r.error!.message, /^MCP server "hostile" has no tool "rm_rf"; its tools: .*echo/);
      await h.recovered();
    });

    test('M8 frames for a server outside the allowlist are refused, and that server is never started', CASE, async () => {
      const code = `${RPC}out = []
for method, params in [("call_tool", {"server": "bystander", "tool": "pid", "arguments": {}}),
                       ("list_tools", {"server": "bystander"}),
                       ("query_tool_docs", {"server": "bystander"}),
                       ("list_resources", {"server": "bystander"}),
                       ("read_resource", {"server": "bystander", "uri": "file:///etc/passwd"}),
                       ("list_prompts", {"server": "bystander"}),
                       ("get_prompt", {"server": "bystander", "name": "x", "arguments": {}})]:
    try:
        await rpc.request(method, params)
        out.append(method + " ALLOWED")
    except Exception as e:
        out.append(method + " " + str(getattr(e, "code", type(e).__name__)))
from mcp import runtime
try:
    await runtime.call_tool("bystander", "pid", {})
except runtime.MCPError as e:
    out.append("runtime " + e.code + " " + str(e))
print("\\n".join(out))`;
      const r = await run(code, { servers: ['hostile'] });
      assert.equal(r.status, 'success', JSON.stringify(r));
      for (const line of r.stdout.slice(0, 7)) assert.match(line, / server_not_allowed$/);
      assert.match(r.stdout[7]!, /^runtime server_not_allowed MCP server "bystander" is not available to this run; list it in run_python's `servers` \(this run has: hostile\)$/);
      assert.equal(await serverState('bystander'), 'idle');
      await h.recovered();
    });

    test('M9 forged RPCs with unknown methods or malformed params get errors, not crashes', CASE, async () => {
      const code = `${RPC}for method, params in [("no_such_method", {}), ("call_tool", {"server": 5, "tool": None}), ("call_tool", {"server": "hostile", "tool": "echo", "arguments": "not-an-object"}), ("search_tool_docs", {"query": ["x"], "limit": -1})]:
    try:
        await rpc.request(method, params); print(method, "ANSWERED")
    except Exception as e:
        print(method, getattr(e, "code", type(e).__name__))`;
      const r = await run(code, { servers: ['hostile'] });
      assert.equal(r.status, 'success', JSON.stringify(r));
      assert.deepEqual(r.stdout, ['no_such_method unknown_method', 'call_tool invalid_request', 'call_tool invalid_request', 'search_tool_docs invalid_request']);
      await h.recovered();
    });

    test('M10 a huge tool-call argument: 4 MB goes through, 20 MB is refused in the sandbox', CASE, async () => {
      const ok = await run('print(await mcp_hostile.size(data="y" * 4_000_000))', { servers: ['hostile'], timeout: 60 });
      assert.equal(ok.status, 'success', JSON.stringify(ok));
      assert.deepEqual(ok.stdout, ["{'length': 4000000}"]);
      const big = await run('print(await mcp_hostile.size(data="y" * 20_000_000))', { servers: ['hostile'], timeout: 60 });
      assert.equal(big.status, 'error');
      assert.equal(big.error?.type, 'FrameError');
      assert.match(big.error!.message, /^frame of \d+ bytes exceeds the 8388608 byte limit$/);
      assert.equal(big.toolCalls, 0, 'nothing reached the daemon');
      await h.recovered();
    });

    test('M11 a tool result over the channel limit is an MCPError at once, not a hang', CASE, async () => {
      const code = 'from mcp import runtime\ntry:\n    await mcp_hostile.big(bytes=9_000_000)\nexcept runtime.MCPError as e:\n    print(e.code, "|", e)\nprint(len(await mcp_hostile.big(bytes=1_000_000)))';
      const r = await run(code, { servers: ['hostile'], timeout: 60 });
      assert.equal(r.status, 'success', JSON.stringify(r));
      assert.match(r.stdout[0]!, /^result_too_large \| the answer is \d+ bytes, over the 8388608-byte limit of the sandbox channel; ask the tool for less/);
      assert.equal(r.stdout[1], '1000000');
      assert.ok(r.durationMs < 45_000, `took ${r.durationMs} ms`);
      await h.recovered();
    });

    test('M12 a result over the channel but under the read limit is refused with the server kept; one past the read limit resets it, named as too large', CASE, async () => {
      // 12 MB: read whole (the stdio read limit is twice the 8 MiB frame), refused by the channel, and
      // the server process is the same one afterwards. 20 MB: more than can be read, so the SDK resets
      // the connection; the call still says result_too_large, and the server serves again next call
      // (the host restarts a failed server on next use, after a short back-off when failures repeat).
      const code = [
        'import asyncio',
        'from mcp import runtime',
        'before = (await mcp_fragile.pid())["pid"]',
        'for size in (12_000_000, 20_000_000):',
        '    try:',
        '        await mcp_fragile.big(bytes=size)',
        '        print("answered")',
        '    except runtime.MCPError as e:',
        '        print(e.code, "|", e)',
        '    if size == 12_000_000:',
        '        print("same server", (await mcp_fragile.pid())["pid"] == before)',
        'await asyncio.sleep(3)',
        'print(len(await mcp_fragile.big(bytes=10)))',
      ].join('\n');
      const r = await run(code, { servers: ['fragile'], timeout: 90 });
      assert.equal(r.status, 'success', JSON.stringify(r));
      assert.match(r.stdout[0]!, /^result_too_large \| the answer is \d+ bytes, over the 8388608-byte limit of the sandbox channel/);
      assert.equal(r.stdout[1], 'same server True');
      assert.match(r.stdout[2]!, /^result_too_large \| MCP server "fragile" sent a message over 16777216 bytes during .*more than can be read; its connection was reset/);
      assert.equal(r.stdout[3], '10');
      noteChildren();
      await h.recovered();
    });

    test('M13 ten thousand tiny tool calls at once: all answered, in order, counted', CASE, async () => {
      const rss0 = ((await h.daemon.client.get('/v1/status')) as { rssBytes: number }).rssBytes;
      const code = 'import asyncio\nanswers = await asyncio.gather(*[mcp_hostile.echo(text=f"n{i}") for i in range(10_000)])\nprint(len(answers), all(a == f"n{i}" for i, a in enumerate(answers)))';
      const r = await run(code, { servers: ['hostile'], timeout: 120 });
      assert.equal(r.status, 'success', JSON.stringify(r));
      assert.deepEqual(r.stdout, ['10000 True']);
      assert.equal(r.toolCalls, 10_000);
      const rss1 = ((await h.daemon.client.get('/v1/status')) as { rssBytes: number }).rssBytes;
      assert.ok(rss1 - rss0 < 200 * 1024 * 1024, `daemon RSS grew by ${Math.round((rss1 - rss0) / 1024 / 1024)} MiB`);
      await h.recovered();
    });

    test('M14 the control API never shows a server\'s env, whatever was asked', CASE, async () => {
      for (const path of ['/v1/status', '/v1/servers']) {
        const body = JSON.stringify(await h.daemon.client.get(path).catch((err: Error) => ({ error: err.message })));
        assert.ok(!body.includes(SERVER_SECRET), `${path} shows the secret`);
      }
      assert.ok(!h.daemon.logs().includes(SERVER_SECRET), 'the daemon log shows the secret');
      await h.recovered();
    });

    test('M15 stopping the daemon stops every MCP server it started; none is left behind', CASE, async () => {
      noteChildren();
      assert.ok(seenChildren.size >= 2, `saw ${seenChildren.size} server processes`);
      assert.equal(await h.daemon.stop(), 0, h.daemon.logs().slice(-2000));
      await eventually(() => [...seenChildren].every((pid) => !existsSync(`/proc/${pid}`) || readState(pid) === 'Z'), 'every MCP server process is gone');
    });
  });
}

function readState(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]!;
  } catch {
    return 'gone';
  }
}
