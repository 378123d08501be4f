import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { availableEngines, sandboxesOf } from '../support/engines.ts';
import { containerRunning } from '../support/hostile.ts';
import { startDaemonProcess, waitWarm, type DaemonHandle } from '../support/daemon-process.ts';
import { callRun, connectShim, type ShimClient } from '../support/shim-client.ts';

// On every runtime, bwrap included.
const engines = await availableEngines({ bwrap: true });

for (const engine of engines) {
  describe(`the shim, with the SDK's Client over stdio, on ${engine.name}`, () => {
    let daemon: DaemonHandle;
    let shim: ShimClient;

    before(async () => {
      daemon = await startDaemonProcess(engine);
      await waitWarm(daemon.client, 2);
      // No autostart: every call must reach this very daemon.
      shim = await connectShim({ ...daemon.env, MCP_BRIDGE_AUTOSTART: '0' });
    });
    after(async () => {
      await shim?.[Symbol.asyncDispose]();
      await daemon?.[Symbol.asyncDispose]();
    });

    test('tools/list shows run_python with its input and output schema and the manual', async () => {
      const { tools } = await shim.client.listTools();
      assert.deepEqual(tools.map((t) => t.name), ['run_python']);
      const tool = tools[0]!;
      assert.equal(tool.inputSchema.type, 'object');
      assert.deepEqual(tool.inputSchema.required, ['code']);
      const props = tool.inputSchema.properties as Record<string, { type: string }>;
      assert.equal(props.code!.type, 'string');
      assert.equal(props.servers!.type, 'array');
      assert.equal(props.timeout!.type, 'integer');
      assert.ok(tool.outputSchema, 'an output schema');
      assert.deepEqual((tool.outputSchema!.properties as Record<string, { enum?: string[] }>).status!.enum, ['success', 'error', 'timeout', 'validation_error']);
      assert.match(tool.description ?? '', /mcp_<name>/);
      assert.match(tool.description ?? '', /from mcp import runtime/);
    });

    test('the capabilities resource carries the whole manual', async () => {
      const { resources } = await shim.client.listResources();
      assert.deepEqual(resources.map((r) => r.uri), ['resource://mcp-code-mode/capabilities']);
      const read = await shim.client.readResource({ uri: 'resource://mcp-code-mode/capabilities' });
      const text = (read.contents[0] as { text: string }).text;
      const { tools } = await shim.client.listTools();
      // The description is the short manual, which points to the whole one.
      assert.match(text, /from mcp import runtime/);
      assert.match(tools[0]!.description ?? '', /resource:\/\/mcp-code-mode\/capabilities/);
      await assert.rejects(shim.client.readResource({ uri: 'resource://mcp-code-mode/nope' }), /no resource/);
    });

    test('a call runs code in a container: text, structuredContent, isError false', async () => {
      const out = await callRun(shim.client, { code: 'import os\nprint(6*7)\nprint(os.getuid())' });
      assert.equal(out.isError, false, out.text);
      assert.equal(out.result.status, 'success');
      assert.deepEqual(out.result.stdout, ['42', '65534']);
      assert.match(out.text, /42/);
    });

    test('a failing run is a result with isError, not a protocol error', async () => {
      const out = await callRun(shim.client, { code: 'raise ValueError("boom")' });
      assert.equal(out.isError, true);
      assert.equal(out.result.status, 'error');
      assert.equal(out.result.error?.type, 'ValueError');
    });

    test('invalid input gives validation_error naming the field, never a JSON-RPC error', async () => {
      const cases: [Record<string, unknown>, RegExp][] = [
        [{ code: 5 }, /code/],
        [{}, /code/],
        [{ code: '' }, /code must not be empty/],
        [{ code: 'print(1)', timeout: 'soon' }, /timeout/],
        [{ code: 'print(1)', timeout: 2.5 }, /timeout must be a whole number/],
        [{ code: 'print(1)', servers: 'github' }, /servers/],
        [{ code: 'print(1)', servers: ['no-such-server'] }, /no-such-server/],
      ];
      for (const [args, message] of cases) {
        const out = await callRun(shim.client, args);
        assert.equal(out.result.status, 'validation_error', `${JSON.stringify(args)}: ${out.text}`);
        assert.equal(out.isError, true);
        assert.match(out.result.error?.message ?? '', message, JSON.stringify(args));
      }
      // An unknown field is ignored, not refused (clients inject their own; hostile-input I5 checks the summary names it).
      const extra = await callRun(shim.client, { code: 'print(1)', timeout_seconds: 3 });
      assert.equal(extra.result.status, 'success', extra.text);
    });

    test('progress notifications carry the output lines so far while a run prints over time', async () => {
      const messages: string[] = [];
      const progressValues: number[] = [];
      const out = await callRun(
        shim.client,
        { code: 'import time\nfor i in range(4):\n    print(f"line {i}", flush=True)\n    time.sleep(0.4)' },
        {
          onprogress: (p) => {
            progressValues.push(p.progress);
            messages.push(p.message ?? '');
          },
        },
      );
      assert.equal(out.result.status, 'success', out.text);
      assert.ok(messages.length >= 3, `progress notifications: ${JSON.stringify(messages)}`);
      assert.equal(messages[0], 'line 0');
      assert.ok(messages.some((m) => m === 'line 0\nline 1\nline 2'), JSON.stringify(messages));
      assert.deepEqual([...progressValues].sort((a, b) => a - b), progressValues, 'progress only grows');
    });

    test("a cancelled call's container is gone from the engine", async () => {
      const cancel = new AbortController();
      let started!: () => void;
      const running = new Promise<void>((resolve) => (started = resolve));
      const messages: string[] = [];
      // The code starts a marked process: the sandbox that runs it (found from the host) is the one to watch.
      const call = callRun(
        shim.client,
        { code: 'import subprocess, time\nsubprocess.Popen(["sleep", "781"])\nprint("started", flush=True)\ntime.sleep(60)', timeout: 90 },
        {
          signal: cancel.signal,
          onprogress: (p) => {
            messages.push(p.message ?? '');
            started();
          },
        },
      );
      await running;
      const mine = [await containerRunning(engine, daemon, ['sleep', '781'])];
      cancel.abort();
      await assert.rejects(call, /abort/i);
      const deadline = Date.now() + 15_000;
      while ((await sandboxesOf(engine, daemon)).some((c) => c.id === mine[0])) {
        assert.ok(Date.now() < deadline, 'the cancelled run container is still there after 15 s');
        await new Promise((r) => setTimeout(r, 100));
      }
      // The shim is still fine after a cancellation.
      const out = await callRun(shim.client, { code: 'print("after")' });
      assert.deepEqual(out.result.stdout, ['after']);
    });

    test('a client that goes away mid-run (the shim loses stdin) ends the run and its container', async () => {
      const leaving = await connectShim({ ...daemon.env, MCP_BRIDGE_AUTOSTART: '0' });
      let started!: () => void;
      const running = new Promise<void>((resolve) => (started = resolve));
      const messages: string[] = [];
      const call = callRun(
        leaving.client,
        { code: 'import subprocess, time\nsubprocess.Popen(["sleep", "782"])\nprint("started", flush=True)\ntime.sleep(60)', timeout: 90 },
        {
          onprogress: (p) => {
            messages.push(p.message ?? '');
            started();
          },
        },
      );
      await running;
      const mine = [await containerRunning(engine, daemon, ['sleep', '782'])];
      await leaving[Symbol.asyncDispose]();
      await assert.rejects(call);
      const deadline = Date.now() + 15_000;
      while ((await sandboxesOf(engine, daemon)).some((c) => c.id === mine[0])) {
        assert.ok(Date.now() < deadline, 'the container of the abandoned run is still there after 15 s');
        await new Promise((r) => setTimeout(r, 100));
      }
    });

    test('several shims share the one daemon', async () => {
      await using second = await connectShim({ ...daemon.env, MCP_BRIDGE_AUTOSTART: '0' });
      const [a, b] = await Promise.all([callRun(shim.client, { code: 'print("a")' }), callRun(second.client, { code: 'print("b")' })]);
      assert.deepEqual([a.result.stdout, b.result.stdout], [['a'], ['b']]);
      const status = (await daemon.client.get('/v1/status')) as { pid: number };
      assert.equal(status.pid, daemon.proc.pid);
    });
  });
}
