import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { RunResult } from '@mcp-code-mode/protocol';
import { EVERYTHING, MEMORY, startEverythingHttp, stdio, writeServersConfig, type HttpServer } from '../fixtures/mcp-servers/upstreams.ts';
import { availableEngines } from '../support/engines.ts';
import { startDaemonProcess, waitWarm, type DaemonHandle } from '../support/daemon-process.ts';

const engines = await availableEngines({ bwrap: true });
const SECRET = 'sk-test-secret-4f1c9a';

for (const engine of engines) {
  describe(`server-everything through the sandbox on ${engine.name}`, () => {
    let daemon: DaemonHandle;
    let http: HttpServer;
    let dir: string;
    const run = async (code: string, servers: string[], timeout?: number): Promise<RunResult> =>
      (await daemon.client.run({ code, servers, ...(timeout ? { timeout } : {}) })).result;
    const ok = (r: RunResult): RunResult => {
      assert.equal(r.status, 'success', JSON.stringify(r, null, 2));
      return r;
    };

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'mcm-everything-'));
      http = await startEverythingHttp();
      const config = writeServersConfig(join(dir, 'servers.json'), {
        everything: stdio(EVERYTHING, ['stdio']),
        'everything-http': { type: 'http', url: http.url, headers: { Authorization: `Bearer ${SECRET}` } },
        memory: stdio(MEMORY, [], { MEMORY_FILE_PATH: join(dir, 'memory.jsonl'), API_TOKEN: SECRET }),
      });
      daemon = await startDaemonProcess(engine, { MCP_SERVERS_CONFIG: config });
      await waitWarm(daemon.client, 1);
    });
    after(async () => {
      await daemon?.[Symbol.asyncDispose]();
      await http?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    for (const [server, alias] of [
      ['everything', 'everything'],
      ['everything-http', 'everything_http'],
    ] as const) {
      const transport = server === 'everything' ? 'stdio' : 'Streamable HTTP';

      test(`${transport}: echo and get-sum through the proxies, with their tool counts`, async () => {
        const r = ok(await run(`print(await mcp_${alias}.echo(message="hi"))\nprint(await mcp_${alias}.get_sum(a=2, b=3))`, [server]));
        assert.deepEqual(r.stdout, ['Echo: hi', 'The sum of 2 and 3 is 5.']);
        assert.equal(r.toolCalls, 2);
        assert.deepEqual(r.servers, [server]);
      });

      test(`${transport}: a tool with structuredContent gives a dict with key and attribute access`, async () => {
        const code = `w = await mcp_${alias}.get_structured_content(location="Chicago")\nprint(sorted(w.keys()), w.temperature == w["temperature"])`;
        assert.deepEqual(ok(await run(code, [server])).stdout, ["['conditions', 'humidity', 'temperature'] True"]);
      });

      test(`${transport}: resources and prompts`, async () => {
        const code = `
from mcp import runtime
resources = await runtime.list_resources("${server}")
uri = "demo://resource/static/document/architecture.md"
print(any(r.uri == uri for r in resources))
doc = await runtime.read_resource("${server}", uri)
print(doc.contents[0].text.splitlines()[0])
prompts = await runtime.list_prompts("${server}")
print("args-prompt" in [p.name for p in prompts])
got = await runtime.get_prompt("${server}", "args-prompt", {"city": "Paris"})
print(got.messages[0].content.text)`;
        const r = ok(await run(code, [server]));
        assert.deepEqual(r.stdout.slice(0, 3), ['True', '# Everything Server – Architecture', 'True']);
        assert.match(r.stdout[3] ?? '', /Paris/);
      });

      test(`${transport}: a long-running tool is cancelled by the run's timeout, and the server still answers`, async () => {
        const started = Date.now();
        const r = await run(`print("started", flush=True)\nawait mcp_${alias}.trigger_long_running_operation(duration=60, steps=60)\nprint("never")`, [server], 2);
        assert.equal(r.status, 'timeout', JSON.stringify(r));
        assert.deepEqual(r.stdout, ['started']);
        assert.ok(Date.now() - started < 15_000, 'the run ended near its timeout, not with the tool');
        assert.deepEqual(ok(await run(`print(await mcp_${alias}.echo(message="after"))`, [server])).stdout, ['Echo: after']);
      });
    }

    test('a per-call timeout raises TimeoutError in the sandbox, and the run goes on', async () => {
      const code = `
import asyncio
try:
    await mcp_everything.trigger_long_running_operation.with_timeout(1)(duration=30, steps=30)
except (asyncio.TimeoutError, TimeoutError) as e:
    print("timed out:", e)
print(await mcp_everything.echo(message="still here"))`;
      const r = ok(await run(code, ['everything'], 20));
      assert.match(r.stdout[0] ?? '', /^timed out: everything\.trigger-long-running-operation timed out after 1s/);
      assert.equal(r.stdout[1], 'Echo: still here');
    });

    test('tool docs: search ranks across the loaded servers; query gives the three detail levels', async () => {
      const code = `
from mcp import runtime
hits = await runtime.search_tool_docs("add two numbers", limit=3)
print(hits[0].server, hits[0].tool, hits[0].call)
graph = await runtime.search_tool_docs("knowledge graph entities", limit=1)
print(graph[0].server)
full = await runtime.query_tool_docs("everything", "get-sum", detail="full")
print(sorted(full.inputSchema.required), "inputSchema" in await runtime.query_tool_docs("everything", "get-sum"))
print(len(await runtime.query_tool_docs("everything")) >= 10)`;
      const r = ok(await run(code, ['everything', 'memory']));
      assert.deepEqual(r.stdout, ['everything get-sum await mcp_everything.get_sum(a: number, b: number)', 'memory', "['a', 'b'] False", 'True']);
    });

    test('arguments that do not match the input schema raise MCPError naming the field', async () => {
      const code = `
from mcp import runtime
try:
    await mcp_everything.get_sum(a="two", b=3)
except runtime.MCPError as e:
    print(e.code, "|", e)
try:
    await mcp_everything.get_structured_content(location="Paris")
except runtime.MCPError as e:
    print(e.code, "|", e)`;
      assert.deepEqual(ok(await run(code, ['everything'])).stdout, [
        'invalid_arguments | invalid arguments for everything.get-sum: argument "a": expected number, got string "two"',
        'invalid_arguments | invalid arguments for everything.get-structured-content: argument "location": expected one of "New York", "Chicago", "Los Angeles", got "Paris"',
      ]);
    });

    test('a gather of 100 echo calls against 100 sequential ones (times printed, not asserted)', async () => {
      const code = `
import asyncio, time
t0 = time.perf_counter()
seq = [await mcp_everything.echo(message=f"s{i}") for i in range(100)]
t1 = time.perf_counter()
par = await asyncio.gather(*(mcp_everything.echo(message=f"g{i}") for i in range(100)))
t2 = time.perf_counter()
slow = await asyncio.gather(*(mcp_everything.trigger_long_running_operation(duration=1, steps=1) for _ in range(20)))
t3 = time.perf_counter()
print(seq == [f"Echo: s{i}" for i in range(100)], list(par) == [f"Echo: g{i}" for i in range(100)], len(slow))
print(f"{(t1 - t0) * 1000:.1f} {(t2 - t1) * 1000:.1f} {(t3 - t2) * 1000:.1f}")`;
      const r = ok(await run(code, ['everything'], 60));
      assert.equal(r.stdout[0], 'True True 20');
      assert.equal(r.toolCalls, 220);
      const [sequential, gathered, slow] = (r.stdout[1] ?? '').split(' ').map(Number) as [number, number, number];
      console.log(
        `[${engine.name}] 100 echo calls: sequential ${sequential} ms, gathered ${gathered} ms (ratio ${(sequential / gathered).toFixed(1)}x); ` +
          `20 gathered 1-second operations: ${slow} ms`,
      );
    });

    test('a server outside the run\'s servers is refused, even through runtime.call_tool and forged frames', async () => {
      const code = `
import json, os, stat
from mcp import runtime
try:
    await runtime.call_tool("memory", "create_entities", {"entities": [{"name": "forged-api", "entityType": "x", "observations": []}]})
except runtime.MCPError as e:
    print("refused", e.code)
frame = b"\\x1e" + json.dumps({"v": 1, "type": "rpc", "id": "forged-1", "method": "call_tool", "params": {"server": "memory", "tool": "create_entities", "arguments": {"entities": [{"name": "forged-raw", "entityType": "x", "observations": []}]}}}).encode() + b"\\n"
# FIFOs under an engine's attach; socket pairs under bwrap (a Node child's stdio pipes are socket pairs).
pipes = []
for fd in range(3, 256):
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
            pipes.append(fd)
    except OSError:
        pass
# Printed before writing: a forged byte on the agent's private pipes may cut this run's own output short.
import asyncio
print("pipes", len(pipes), flush=True)
await asyncio.sleep(0.2)
for fd in pipes:
    try:
        os.write(fd, frame)
    except OSError:
        pass
await asyncio.sleep(0.5)  # the daemon handles the forged frame while the run is still live`;
      const r = await run(code, ['everything']);
      assert.equal(r.stdout[0], 'refused server_not_allowed', JSON.stringify(r));
      assert.ok(Number(/^pipes (\d+)$/.exec(r.stdout[1] ?? '')?.[1]) >= 1, JSON.stringify(r.stdout));
      // The agent's protocol pipe was among them: the daemon received the forged call_tool (it counts
      // as a tool call) and refused it like the first.
      assert.ok(r.toolCalls >= 2, JSON.stringify(r));
      const graph = ok(await run('g = await mcp_memory.read_graph()\nprint(sorted(e.name for e in g.entities))', ['memory']));
      assert.doesNotMatch(graph.stdout.join('\n'), /forged/);
    });

    test('GET /v1/servers shows the connections and never a secret; no secret reaches the sandbox or the log', async () => {
      const status = (await daemon.client.get('/v1/servers')) as { servers: { name: string; state: string; transport: string; tools?: number }[]; problems: unknown[] };
      const everything = status.servers.find((s) => s.name === 'everything')!;
      assert.deepEqual([everything.state, everything.transport], ['connected', 'stdio']);
      assert.ok((everything.tools ?? 0) >= 10);
      assert.equal(status.servers.find((s) => s.name === 'everything-http')!.transport, 'http');
      assert.deepEqual(status.problems, []);
      const inside = ok(await run(`import os\nprint(any("${SECRET.slice(0, 8)}" in v for v in os.environ.values()))`, ['everything', 'everything-http', 'memory']));
      assert.deepEqual(inside.stdout, ['False']);
      assert.doesNotMatch(JSON.stringify(status) + daemon.logs(), new RegExp(SECRET));
    });
  });
}
