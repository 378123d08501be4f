import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { encode as tokens } from 'gpt-tokenizer';
import { EVERYTHING, stdio, writeServersConfig } from '../fixtures/mcp-servers/upstreams.ts';
import { availableEngines } from '../support/engines.ts';
import { startDaemonProcess, waitWarm, type DaemonHandle } from '../support/daemon-process.ts';
import { connectShim, type ShimClient } from '../support/shim-client.ts';

// One engine is enough: what is checked here is what the client receives, not the runtime.
const engines = (await availableEngines()).slice(0, 1);

type Answer = { content: { type: string; text?: string }[]; structuredContent?: unknown; isError?: boolean };

/**
 * What a model reads, over the real stdio shim, with server-everything configured and the defaults a
 * real client gets: the index in the instructions and the description, a text-only result.
 */
for (const engine of engines) {
  describe(`what the model reads, with server-everything, on ${engine.name}`, () => {
    let daemon: DaemonHandle;
    let shim: ShimClient;
    let dir: string;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'mcm-model-view-'));
      const config = writeServersConfig(join(dir, 'servers.json'), {
        everything: stdio(EVERYTHING, ['stdio']),
        'broken-one': { command: '/nonexistent/mcp-server-binary', args: [] },
      });
      daemon = await startDaemonProcess(engine, { MCP_SERVERS_CONFIG: config });
      await waitWarm(daemon.client, 1);
      // A daemon that has run a while has its servers connected; the shim's start waits only briefly.
      await daemon.client.get('/v1/index', { timeoutMs: 30_000 });
      shim = await connectShim({ ...daemon.env, MCP_BRIDGE_AUTOSTART: '0', MCP_BRIDGE_STRUCTURED_CONTENT: '' });
    });
    after(async () => {
      await shim?.[Symbol.asyncDispose]();
      await daemon?.[Symbol.asyncDispose]();
      rmSync(dir, { recursive: true, force: true });
    });

    test('the instructions and the description name the servers and their tools; the description stays under 2,048 characters', async () => {
      const instructions = shim.client.getInstructions() ?? '';
      const { tools } = await shim.client.listTools();
      const tool = tools[0]!;
      for (const text of [instructions, tool.description ?? '']) {
        assert.match(text, /^- everything\b.*get_sum\(a, b\)/m, text);
        assert.match(text, /^- broken-one \(mcp_broken_one\): unavailable: .*ENOENT/m, text);
      }
      assert.ok(tool.description!.length < 2048, `${tool.description!.length} characters`);
      const props = tool.inputSchema.properties as Record<string, { items?: { enum?: string[] }; maximum?: number }>;
      assert.deepEqual(props.servers!.items!.enum, ['everything', 'broken-one']);
      assert.equal(props.timeout!.maximum, 120);
      assert.equal(tool.outputSchema, undefined);
      console.log(`# description ${tool.description!.length} chars, ${tokens(tool.description!).length} tokens; tool definition ${tokens(JSON.stringify(tool)).length} tokens; instructions ${tokens(instructions).length} tokens`);
    });

    test('a result is only the text content: no structuredContent', async () => {
      const r = (await shim.client.callTool({ name: 'run_python', arguments: { code: 'print(6*7)' } })) as Answer;
      assert.deepEqual(Object.keys(r).sort(), ['content', 'isError']);
      assert.equal(r.isError, false);
      assert.equal(r.content.length, 1);
      assert.match(r.content[0]!.text!, /42/);
      console.log(`# print(6*7): ${tokens(r.content[0]!.text!).length} tokens: ${JSON.stringify(r.content[0]!.text)}`);
      const rows = (await shim.client.callTool({
        name: 'run_python',
        arguments: { code: 'import json\nfor i in range(20): print(json.dumps({"id": i, "city": f"city {i}", "temp": i * 1.5}))' },
      })) as Answer;
      assert.match(rows.content[0]!.text!, /output\[20\]\{id,city,temp\}:/, 'JSON lines come back as one table');
      console.log(`# twenty JSON-lines rows: ${tokens(rows.content[0]!.text!).length} tokens`);
    });

    test("each server is a resource: everything's is the stub a run's query_tool_docs gives, and it compiles", async () => {
      const { resources } = await shim.client.listResources();
      assert.deepEqual(
        resources.map((r) => [r.uri, r.mimeType]),
        [
          ['resource://mcp-code-mode/capabilities', 'text/markdown'],
          ['resource://mcp-code-mode/servers/everything.pyi', 'text/x-python'],
          ['resource://mcp-code-mode/servers/broken_one.pyi', 'text/x-python'],
        ],
      );
      const read = await shim.client.readResource({ uri: 'resource://mcp-code-mode/servers/everything.pyi' });
      const text = (read.contents[0] as { text: string }).text;
      assert.match(text, /^async def get_sum\(\*, a: float, b: float\)/m);
      // The resource's text goes into the run as a literal: compared there with the run's own stub, and compiled.
      const code = `import json
from mcp import runtime
resource = json.loads(${JSON.stringify(JSON.stringify(text))})
mine = await runtime.query_tool_docs("everything", detail="stub")
compile(resource, "everything.pyi", "exec", dont_inherit=True)
print("equal" if resource == mine else "differ", resource.count("async def "), len(runtime.describe_server("everything").tools))`;
      const r = (await shim.client.callTool({ name: 'run_python', arguments: { code, servers: ['everything'] } })) as Answer;
      assert.equal(r.isError, false, r.content[0]!.text);
      const [, verdict, defs, tools] = /(equal|differ) (\d+) (\d+)/.exec(r.content[0]!.text!) ?? [];
      assert.equal(verdict, 'equal', r.content[0]!.text);
      assert.equal(defs, tools, 'one async def per tool');
      await assert.rejects(shim.client.readResource({ uri: 'resource://mcp-code-mode/servers/nope.pyi' }), /no MCP server has the alias "nope".*everything\.pyi.*broken_one\.pyi/);
      await assert.rejects(shim.client.readResource({ uri: 'resource://mcp-code-mode/servers/broken_one.pyi' }), /server_unavailable.*ENOENT/);
      console.log(`# everything.pyi: ${text.length} chars, ${tokens(text).length} tokens`);
    });

    test("the Gemini CLI's wait_for_previous is ignored, not refused", async () => {
      const r = (await shim.client.callTool({ name: 'run_python', arguments: { code: 'print("ran")', wait_for_previous: true } })) as Answer;
      assert.equal(r.isError, false, r.content[0]!.text);
      assert.match(r.content[0]!.text!, /ran/);
      assert.doesNotMatch(r.content[0]!.text!, /wait_for_previous/);
    });

    test('a model knowing only what the client received gets the answer in its first run', async () => {
      // The task: "what is 2 + 3, using a tool?". The model reads the index, finds a tool whose name
      // says sum, and writes the call from the signature shown there.
      const description = (await shim.client.listTools()).tools[0]!.description!;
      const line = description.split('\n').find((l) => l.startsWith('- ') && /\bget_sum\(/.test(l))!;
      const server = /^- (\S+)/.exec(line)![1]!;
      const proxy = /^- \S+ \((mcp_\w+)\)/.exec(line)?.[1] ?? `mcp_${server}`;
      const [, fn, args] = /\b(\w*sum\w*)\(([^)]*)\)/.exec(line)!;
      const [x, y] = args!.split(', ');
      const code = `print(await ${proxy}.${fn}(${x}=2, ${y}=3))`;
      assert.equal(code, 'print(await mcp_everything.get_sum(a=2, b=3))');
      const r = (await shim.client.callTool({ name: 'run_python', arguments: { code, servers: [server] } })) as Answer;
      assert.equal(r.isError, false, r.content[0]!.text);
      assert.match(r.content[0]!.text!, /\b5\b/);
    });
  });
}
