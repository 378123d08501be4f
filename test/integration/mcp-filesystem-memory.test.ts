import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { RunResult } from '@mcp-code-mode/protocol';
import { FILESYSTEM, MEMORY, stdio, writeServersConfig } from '../fixtures/mcp-servers/upstreams.ts';
import { availableEngines } from '../support/engines.ts';
import { startDaemonProcess, waitWarm, type DaemonHandle } from '../support/daemon-process.ts';

// On every runtime, bwrap included.
const engines = await availableEngines({ bwrap: true });

for (const engine of engines) {
  describe(`server-filesystem and server-memory through the sandbox on ${engine.name}`, () => {
    let daemon: DaemonHandle;
    let dir: string;
    let files: string;
    const run = async (code: string, servers: string[]): Promise<RunResult> => (await daemon.client.run({ code, servers })).result;
    const ok = (r: RunResult): RunResult => {
      assert.equal(r.status, 'success', JSON.stringify(r, null, 2));
      return r;
    };

    before(async () => {
      dir = realpathSync(mkdtempSync(join(tmpdir(), 'mcm-fs-')));
      files = join(dir, 'files');
      writeFileSync(join(dir, 'outside.txt'), 'not for the sandbox');
      const { mkdirSync } = await import('node:fs');
      mkdirSync(files);
      writeFileSync(join(files, 'notes.txt'), 'first line\nsecond line\n');
      const config = writeServersConfig(join(dir, 'servers.json'), {
        filesystem: stdio(FILESYSTEM, [files]),
        memory: stdio(MEMORY, [], { MEMORY_FILE_PATH: join(dir, 'memory.jsonl') }),
      });
      daemon = await startDaemonProcess(engine, { MCP_SERVERS_CONFIG: config });
      await waitWarm(daemon.client, 1);
    });
    after(async () => {
      await daemon?.[Symbol.asyncDispose]();
      rmSync(dir, { recursive: true, force: true });
    });

    test('code lists, reads and writes files in the scoped folder', async () => {
      const code = `
root = ${JSON.stringify(files)}
print((await mcp_filesystem.read_text_file(path=f"{root}/notes.txt")).content.splitlines())
await mcp_filesystem.write_file(path=f"{root}/from-sandbox.txt", content="written by run_python")
listing = await mcp_filesystem.list_directory(path=root)
print(sorted(line.split("] ")[1] for line in listing.content.splitlines()))`;
      const r = ok(await run(code, ['filesystem']));
      assert.deepEqual(r.stdout, ["['first line', 'second line']", "['from-sandbox.txt', 'notes.txt']"]);
      assert.equal(readFileSync(join(files, 'from-sandbox.txt'), 'utf8'), 'written by run_python');
    });

    test('a path outside the folder is refused by the server and surfaces as MCPError', async () => {
      const code = `
from mcp import runtime
for path in [${JSON.stringify(join(dir, 'outside.txt'))}, ${JSON.stringify(`${files}/../outside.txt`)}]:
    try:
        await mcp_filesystem.read_text_file(path=path)
        print("read it!")
    except runtime.MCPError as e:
        print(e.code, "|", e)`;
      const r = ok(await run(code, ['filesystem']));
      assert.equal(r.stdout.length, 2, JSON.stringify(r));
      for (const line of r.stdout) assert.match(line, /^tool_error \| Access denied - path outside allowed directories/);
    });

    test('code builds and queries a small knowledge graph', async () => {
      const code = `
await mcp_memory.create_entities(entities=[
    {"name": "Ada Lovelace", "entityType": "person", "observations": ["wrote the first published program"]},
    {"name": "Analytical Engine", "entityType": "machine", "observations": ["designed by Charles Babbage"]},
    {"name": "Charles Babbage", "entityType": "person", "observations": ["mathematician"]},
])
await mcp_memory.create_relations(relations=[
    {"from": "Ada Lovelace", "to": "Analytical Engine", "relationType": "programmed"},
    {"from": "Charles Babbage", "to": "Analytical Engine", "relationType": "designed"},
])
await mcp_memory.add_observations(observations=[{"entityName": "Ada Lovelace", "contents": ["born 1815"]}])
found = await mcp_memory.search_nodes(query="Babbage")
print(sorted(e.name for e in found.entities))
graph = await mcp_memory.read_graph()
people = [e.name for e in graph.entities if e.entityType == "person"]
print(sorted(people))
print(sorted((r["from"], r.relationType) for r in graph.relations if r.to == "Analytical Engine"))
ada = (await mcp_memory.open_nodes(names=["Ada Lovelace"])).entities[0]
print(ada.observations)`;
      const r = ok(await run(code, ['memory']));
      assert.deepEqual(r.stdout, [
        "['Analytical Engine', 'Charles Babbage']",
        "['Ada Lovelace', 'Charles Babbage']",
        "[('Ada Lovelace', 'programmed'), ('Charles Babbage', 'designed')]",
        "['wrote the first published program', 'born 1815']",
      ]);
      // The graph lives in the server, across runs and containers.
      assert.deepEqual(ok(await run('print(len((await mcp_memory.read_graph()).entities))', ['memory'])).stdout, ['3']);
    });
  });
}
