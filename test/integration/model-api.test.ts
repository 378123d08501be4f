// What the model reads inside the sandbox, against the real server-everything, -filesystem and
// -memory: every tool's inspect.signature, help(), the stub the sandbox writes and the stub the
// daemon writes (stubs.ts) agree, and misspelt tools, arguments and servers get suggestions.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { RunResult, ServerInfo } from '@mcp-code-mode/protocol';
import { pino } from 'pino';
import { createMcpToolHost } from '../../daemon/src/upstreams/create-host.ts';
import type { McpToolHost } from '../../daemon/src/upstreams/mcp-tool-host.ts';
import { serverStub, toolSignatures } from '../../daemon/src/upstreams/stubs.ts';
import { EVERYTHING, FILESYSTEM, MEMORY, stdio, writeServersConfig } from '../fixtures/mcp-servers/upstreams.ts';
import { availableEngines } from '../support/engines.ts';
import { startDaemonProcess, waitWarm, type DaemonHandle } from '../support/daemon-process.ts';

const engines = await availableEngines({ bwrap: true });
const SERVERS = ['everything', 'filesystem', 'memory'];

// Runs in the sandbox: for every tool, the proxy against the stub executed as a module.
const AGREEMENT = `
import inspect, json, pydoc
from mcp import runtime
report = {"stubs": {}, "signatures": {}, "failures": [], "tools": 0}
for name in ${JSON.stringify(SERVERS)}:
    stub = await runtime.query_tool_docs(name, detail="stub")
    report["stubs"][name] = stub
    namespace = {"__name__": "builtins"}
    exec(compile(stub, name + ".pyi", "exec", dont_inherit=True), namespace)
    report["signatures"][name] = {}
    for tool in runtime.describe_server(name).tools:
        report["tools"] += 1
        function = getattr(mcp_servers[name], tool.alias)
        declared = namespace[tool.alias]
        one = {"__name__": "builtins"}
        exec(compile("from typing import *\\n" + runtime.query_tool_docs_sync(name, tool.name, detail="stub"), tool.name, "exec", dont_inherit=True), one)
        signature = str(inspect.signature(function))
        report["signatures"][name][tool.name] = signature
        checks = {
            "signature": signature == str(inspect.signature(declared)),
            "docstring": inspect.getdoc(function) == inspect.getdoc(declared),
            "help": ("async %s%s" % (tool.alias, signature)) in pydoc.render_doc(function, renderer=pydoc.plaintext),
            "one-tool stub": str(inspect.signature(one[tool.alias])) == signature,
        }
        report["failures"] += ["%s.%s: %s" % (name, tool.name, what) for what, ok in checks.items() if not ok]
print(json.dumps(report))
`;

for (const engine of engines) {
  describe(`typed tools, stubs and suggestions against the real servers on ${engine.name}`, () => {
    let daemon: DaemonHandle;
    let host: McpToolHost;
    let infos: ServerInfo[];
    let dir: string;
    const run = async (code: string, servers: string[]): Promise<RunResult> => (await daemon.client.run({ code, servers, timeout: 60 })).result;

    before(async () => {
      dir = realpathSync(mkdtempSync(join(tmpdir(), 'mcm-model-api-')));
      mkdirSync(join(dir, 'files'));
      const config = writeServersConfig(join(dir, 'servers.json'), {
        everything: stdio(EVERYTHING, ['stdio']),
        filesystem: stdio(FILESYSTEM, [join(dir, 'files')]),
        memory: stdio(MEMORY, [], { MEMORY_FILE_PATH: join(dir, 'memory.jsonl') }),
      });
      daemon = await startDaemonProcess(engine, { MCP_SERVERS_CONFIG: config, MCP_BRIDGE_MAX_OUTPUT_BYTES: String(4 * 1024 * 1024) });
      // The daemon's own view of the same servers, in-process: what it would serve as the .pyi resource.
      host = await createMcpToolHost({ inputs: { home: dir, cwd: dir, env: { MCP_SERVERS_CONFIG: config }, platform: process.platform }, log: pino({ level: 'silent' }) });
      infos = await host.describe(SERVERS, AbortSignal.timeout(30_000));
      await waitWarm(daemon.client, 1);
    });
    after(async () => {
      await daemon?.[Symbol.asyncDispose]();
      await host?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    test('inspect.signature, help(), the sandbox stub and the daemon stub agree for every tool', async () => {
      const r = await run(AGREEMENT, SERVERS);
      assert.equal(r.status, 'success', JSON.stringify(r.error ?? r.stderr));
      const report = JSON.parse(r.stdout.join('\n')) as { stubs: Record<string, string>; signatures: Record<string, Record<string, string>>; failures: string[]; tools: number };
      assert.deepEqual(report.failures, []);
      assert.equal(report.tools, infos.reduce((n, s) => n + s.tools.length, 0));
      assert.ok(report.tools >= 30, `${report.tools} tools`);
      for (const info of infos) {
        assert.equal(serverStub(info), report.stubs[info.name], `the daemon's stub of ${info.name} is the sandbox's`);
        // typing writes Union[..., None] as Union[..., NoneType]; the stub cannot name NoneType.
        const sandbox = Object.fromEntries(Object.entries(report.signatures[info.name]!).map(([tool, sig]) => [tool, sig.replaceAll('NoneType', 'None')]));
        assert.deepEqual(Object.fromEntries(toolSignatures(info)), sandbox);
      }
      // Nested objects and enums are among them.
      assert.equal(report.signatures.memory!.create_entities, '(*, entities: List[EntitiesItem])');
      assert.match(report.stubs.memory!, /RelationsItem = TypedDict\('RelationsItem', \{\n {4}'from': str,/);
      assert.equal(report.signatures.everything!['get-structured-content'], "(*, location: Literal['New York', 'Chicago', 'Los Angeles'])");
      assert.equal(report.signatures.filesystem!.edit_file, '(*, path: str, edits: List[EditsItem], dryRun: bool = False)');
    });

    test('a call built from the stub works; misspelt arguments, tools and servers are caught in the sandbox with the closest name', async () => {
      const code = `
import asyncio
from mcp import runtime
print(await mcp_memory.create_entities(entities=[{"name": "Ada", "entityType": "person", "observations": ["wrote the first program"]}]))
for attempt in (lambda: mcp_everything.get_sum(a=1, bb=2), lambda: mcp_memory.create_entities(entites=[])):
    try:
        await attempt()
    except TypeError as e:
        print("TypeError:", e)
for name in ("get_summ", "sum"):
    try:
        getattr(mcp_everything, name)
    except AttributeError as e:
        print("AttributeError:", str(e).split(";")[1].strip())
try:
    mcp_servers["filesystem"]
except KeyError as e:
    print("KeyError:", e)
hits = await runtime.search_tool_docs("sum two numbers", limit=1)
print(hits[0].tool)
print(await runtime.search_tool_docs("qqxv zzkk"))
await mcp_filesystem.list_directory(path="/")`;
      const r = await run(code, ['everything', 'memory']);
      assert.equal(r.status, 'error');
      assert.equal(r.toolCalls, 1, 'only create_entities left the sandbox');
      assert.match(r.stdout[0] ?? '', /'name': 'Ada'/);
      assert.deepEqual(r.stdout.slice(1), [
        "TypeError: mcp_everything.get_sum() got an unexpected keyword argument 'bb' (did you mean 'b'?); missing required keyword argument 'b'; it takes: a, b; timeout=seconds sets this call's timeout",
        "TypeError: mcp_memory.create_entities() got an unexpected keyword argument 'entites' (did you mean 'entities'?); missing required keyword argument 'entities'; it takes: entities; timeout=seconds sets this call's timeout",
        'AttributeError: did you mean get_sum? All of its tools: echo, get_annotated_message, get_env, get_resource_links, get_resource_reference, get_structured_content, get_sum, get_tiny_image, gzip_file_as_resource, simulate_research_query, toggle_simulated_logging, toggle_subscriber_updates, trigger_long_running_operation. A tool missing from this list can still be called with `await runtime.call_tool(\'everything\', name, arguments)`.',
        'AttributeError: did you mean get_sum? All of its tools: echo, get_annotated_message, get_env, get_resource_links, get_resource_reference, get_structured_content, get_sum, get_tiny_image, gzip_file_as_resource, simulate_research_query, toggle_simulated_logging, toggle_subscriber_updates, trigger_long_running_operation. A tool missing from this list can still be called with `await runtime.call_tool(\'everything\', name, arguments)`.',
        "KeyError: MCP server 'filesystem' is not loaded in this run: add 'filesystem' to run_python's `servers` (loaded: everything, memory)",
        'get-sum',
        "[]  # no tool of everything, memory matched 'qqxv zzkk'; try other words, or list them: await runtime.list_tools(server); servers not loaded (add them to `servers` to search them): filesystem",
      ]);
      assert.equal(r.error?.type, 'NameError');
      assert.match(r.error?.message ?? '', /mcp_filesystem is MCP server 'filesystem', which this run did not load: add 'filesystem' to run_python's `servers`/);
    });
  });
}
