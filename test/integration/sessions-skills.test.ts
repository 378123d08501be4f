import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SessionListSchema } from '@mcp-code-mode/protocol';
import { availableEngines } from '../support/engines.ts';
import { sandboxPids } from '../support/hostile.ts';
import { startDaemonProcess, waitWarm, type DaemonHandle } from '../support/daemon-process.ts';
import { EVERYTHING, stdio, writeServersConfig } from '../fixtures/mcp-servers/upstreams.ts';
import { openSessionId, runClient as shimClient, type RunClient as ShimClient } from '../support/shim-client.ts';

// On every runtime, bwrap included.
const engines = await availableEngines({ bwrap: true });

for (const engine of engines) {
  describe(`saved tools on ${engine.name}`, () => {
    let daemon: DaemonHandle;
    let client: ShimClient;
    let skillsDir: string;

    before(async () => {
      const config = writeServersConfig(join(mkdtempSync(join(tmpdir(), 'mcm-servers-')), 'servers.json'), { everything: stdio(EVERYTHING) });
      daemon = await startDaemonProcess(engine, { MCP_SERVERS_CONFIG: config });
      skillsDir = join(daemon.stateDir, 'skills');
      await waitWarm(daemon.client, 2);
      client = await shimClient(daemon);
    });
    after(async () => {
      await client?.close();
      await daemon?.[Symbol.asyncDispose]();
    });

    test('a function saved in one session is imported and called in a later run of another session', async () => {
      const saving = await client.run({
        session: 'new',
        code: `
import csv, io
from collections import Counter
from mcp import runtime

@runtime.save_tool
def top_values(text, column, n=2):
    """The n most common values of a CSV column."""
    rows = csv.DictReader(io.StringIO(text))
    return Counter(r[column] for r in rows).most_common(n)

print(top_values("k\\na\\nb\\na\\n", "k"))`,
      });
      assert.equal(saving.status, 'success', JSON.stringify(saving));
      assert.deepEqual(saving.stdout, ["[('a', 2), ('b', 1)]"]);
      // Written on the host by the daemon, with the run's imports it uses and without the decorator.
      const saved = readFileSync(join(skillsDir, 'top_values.py'), 'utf8');
      assert.match(saved, /^import csv, io\nfrom collections import Counter\n\ndef top_values\(text, column, n=2\):/);
      assert.doesNotMatch(saved, /save_tool|from mcp import runtime/);

      const other = await client.run({
        session: 'new',
        code: 'from skills import top_values\nfrom mcp import runtime\nprint(top_values("c\\nx\\ny\\ny\\n", "c", 1))\nprint([(t.name, t.docstring) for t in runtime.list_saved_tools()])',
      });
      assert.equal(other.status, 'success', JSON.stringify(other));
      assert.deepEqual(other.stdout, ["[('y', 2)]", "[('top_values', 'The n most common values of a CSV column.')]"]);
      const plain = await client.run({ code: 'import skills\nprint(dir(skills))' });
      assert.deepEqual(plain.stdout, ["['top_values']"]);
      // No container gets a mount of the skills directory: they arrive in the execute frame.
      const { container } = SessionListSchema.parse(await daemon.client.get('/v1/sessions')).sessions.find((s) => s.id === openSessionId(other))!;
      if (engine.docker) {
        const info = await engine.docker.getContainer(container).inspect();
        assert.deepEqual(info.Mounts.filter((m) => m.Type !== 'tmpfs'), []);
      } else {
        // bwrap: no mount of the sandbox's namespace is the skills directory (its processes' mountinfo).
        const pids = sandboxPids(container);
        assert.ok(pids.length > 0, `no process of sandbox ${container} found`);
        for (const pid of pids) assert.doesNotMatch(readFileSync(`/proc/${pid}/mountinfo`, 'utf8'), new RegExp(skillsDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
      }
      for (const id of [openSessionId(saving), openSessionId(other)]) await daemon.client.delete(`/v1/sessions/${id}`);
    });

    test('a saved tool can call MCP tools through the proxies of the run that uses it', async () => {
      const save = await client.run({
        servers: ['everything'],
        code: 'from mcp import runtime\nasync def shout(text):\n    """Echo, upper-cased."""\n    r = await mcp_everything.echo(message=text)\n    return str(r).upper()\nruntime.save_tool(shout)',
      });
      assert.equal(save.status, 'success', JSON.stringify(save));
      const use = await client.run({ servers: ['everything'], code: 'from skills import shout\nprint(await shout("hi"))' });
      assert.deepEqual([use.status, use.stdout, use.toolCalls], ['success', ['ECHO: HI'], 1], JSON.stringify(use));
    });

    test('a broken saved tool is reported by name and does not stop the others', async () => {
      mkdirSync(skillsDir, { recursive: true });
      writeFileSync(join(skillsDir, 'broken_syntax.py'), 'def broken_syntax(:\n    pass\n');
      writeFileSync(join(skillsDir, 'raises_on_import.py'), 'import not_a_module_anywhere\n\ndef raises_on_import():\n    pass\n');
      const save = await client.run({ code: 'from mcp import runtime\ndef double(x):\n    "Twice x."\n    return 2 * x\nruntime.save_tool(double)' });
      assert.equal(save.status, 'success', JSON.stringify(save));
      const r = await client.run({
        code: `
from mcp import runtime
from skills import double
print(double(21))
for t in runtime.list_saved_tools():
    print(t.name, "error" in t and t.error.split(":")[0])
try:
    from skills import raises_on_import
except ImportError as e:
    print("ImportError:", str(e).split(";")[0])`,
      });
      assert.equal(r.status, 'success', JSON.stringify(r));
      assert.deepEqual(r.stdout, [
        '42',
        "broken_syntax saved tool 'broken_syntax' does not import",
        'double False',
        "raises_on_import saved tool 'raises_on_import' does not import",
        'shout False',
        'top_values False',
        "ImportError: saved tool 'raises_on_import' does not import: ModuleNotFoundError: No module named 'not_a_module_anywhere'",
      ]);
    });

    test('delete_saved_tool removes one; bad names and unknown ones are refused with the reason', async () => {
      const r = await client.run({
        code: `
from mcp import runtime
runtime.delete_saved_tool("broken_syntax")
for name in ["broken_syntax", "../etc/passwd"]:
    try:
        runtime.delete_saved_tool(name)
    except runtime.MCPError as e:
        print(e.code)
def _hidden():
    pass
try:
    runtime.save_tool(_hidden)
except runtime.MCPError as e:
    print(e.code, "starting with a letter" in str(e))`,
      });
      assert.equal(r.status, 'success', JSON.stringify(r));
      assert.deepEqual(r.stdout, ['unknown_saved_tool', 'invalid_request', 'invalid_request True']);
      assert.equal(existsSync(join(skillsDir, 'broken_syntax.py')), false);
    });
  });
}
