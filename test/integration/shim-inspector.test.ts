import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { availableEngines } from '../support/engines.ts';
import { startDaemonProcess, type DaemonHandle } from '../support/daemon-process.ts';
import { SHIM_BIN } from '../support/shim-client.ts';

const run = promisify(execFile);
const engines = await availableEngines();
// inspector-cli 1.x (the inspector's CLI mode for Node 20; the 2.x inspector needs Node 22.19).
// Its build/ directory is the working directory on purpose: the CLI looks for ../package.json from there.
const INSPECTOR_DIR = fileURLToPath(new URL('../../node_modules/@modelcontextprotocol/inspector-cli/build/', import.meta.url));

async function inspector(env: NodeJS.ProcessEnv, args: string[]): Promise<unknown> {
  const { stdout } = await run(process.execPath, ['cli.js', '--cli', process.execPath, SHIM_BIN, '-e', 'MCP_BRIDGE_AUTOSTART=0', ...args], {
    cwd: INSPECTOR_DIR,
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

    test('tools/call runs run_python', async () => {
      const answer = (await inspector(daemon.env, ['--method', 'tools/call', '--tool-name', 'run_python', '--tool-arg', 'code=print(6*7)'])) as {
        isError: boolean;
        structuredContent: { status: string; stdout: string[] };
      };
      assert.equal(answer.isError, false);
      assert.deepEqual(answer.structuredContent.stdout, ['42']);
    });

    test('resources/read returns the capabilities manual', async () => {
      const answer = (await inspector(daemon.env, ['--method', 'resources/read', '--uri', 'resource://mcp-code-mode/capabilities'])) as { contents: { text: string }[] };
      assert.match(answer.contents[0]!.text, /from mcp import runtime/);
    });
  });
}
