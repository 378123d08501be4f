import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { availableEngines } from '../support/engines.ts';
import { startDaemonProcess, type DaemonHandle } from '../support/daemon-process.ts';
import { SHIM_BIN } from '../support/shim-client.ts';

const run = promisify(execFile);
const engines = await availableEngines({ bwrap: true });
// The command docs/CLIENTS.md documents, from the directory it documents: inspector-cli 1.0.3 (the
// inspector's CLI mode for Node 20) checks for ../package.json from the directory npx runs it in
// (the nearest one with a package.json) and, when there is none, fails to import its own. The
// repository's shim/ has one above it.
const DOCUMENTED_DIR = fileURLToPath(new URL('../../shim/', import.meta.url));

async function inspector(env: NodeJS.ProcessEnv, args: string[]): Promise<unknown> {
  const { stdout } = await run('npx', ['--no-install', '@modelcontextprotocol/inspector-cli', '--cli', process.execPath, SHIM_BIN, '-e', 'MCP_BRIDGE_AUTOSTART=0', ...args], {
    cwd: DOCUMENTED_DIR,
    env,
    timeout: 60_000,
  });
  // The JSON answer follows a deprecation banner.
  return JSON.parse(stdout.slice(stdout.indexOf('{')));
}

for (const engine of engines.slice(0, 1)) {
  describe(`the MCP Inspector CLI against the shim (${engine.name})`, () => {
    let daemon: DaemonHandle;
    before(async () => {
      daemon = await startDaemonProcess(engine);
    });
    after(async () => {
      await daemon?.[Symbol.asyncDispose]();
    });

    test('tools/list lists run_python', async () => {
      const answer = (await inspector(daemon.env, ['--method', 'tools/list'])) as { tools: { name: string; inputSchema: { required: string[] } }[] };
      assert.deepEqual(answer.tools.map((t) => t.name), ['run_python']);
      assert.deepEqual(answer.tools[0]!.inputSchema.required, ['code']);
    });

    test('tools/call runs run_python: the text only', async () => {
      const answer = (await inspector(daemon.env, ['--method', 'tools/call', '--tool-name', 'run_python', '--tool-arg', 'code=print(6*7)'])) as {
        isError: boolean;
        content: { type: string; text: string }[];
        structuredContent?: unknown;
      };
      assert.equal(answer.isError, false);
      assert.match(answer.content[0]!.text, /42/);
      assert.equal(answer.structuredContent, undefined);
    });

    test('resources/read returns the capabilities manual', async () => {
      const answer = (await inspector(daemon.env, ['--method', 'resources/read', '--uri', 'resource://mcp-code-mode/capabilities'])) as { contents: { text: string }[] };
      assert.match(answer.contents[0]!.text, /from mcp import runtime/);
    });
  });
}
