import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';
import type { RunResponse } from '@mcp-code-mode/protocol';
import { ControlError, type RunCall } from '@mcp-code-mode/client';
import { CAPABILITIES_URI, SANDBOX_MANUAL, TOOL_MANUAL } from '../../shim/src/manual.ts';
import { createShimServer, type RunForwarder, type ShimDeps } from '../../shim/src/server.ts';
import { eventually } from '../support/poll.ts';

const success = (stdout: string[]): RunResponse => ({
  result: { status: 'success', summary: 'Success in 1 ms', exitCode: 0, stdout, stderr: [], servers: [], durationMs: 1, toolCalls: 0 },
  text: `ok ${stdout.join(',')}`,
});

/** A fake daemon: records every call and answers with `answer`. */
function fakeForwarder(answer: (call: RunCall, options: Parameters<RunForwarder['run']>[1]) => Promise<RunResponse>): RunForwarder & { calls: RunCall[]; answers: [string, string][] } {
  const calls: RunCall[] = [];
  const answers: [string, string][] = [];
  return {
    calls,
    answers,
    answerApproval: async (id, decision) => void answers.push([id, decision]),
    run: (call, options) => {
      calls.push(call);
      return answer(call, options);
    },
  };
}

/** A shim on a fake daemon. Structured content is on (these tests read the result value) unless `extra` says otherwise. */
async function connect(
  control: RunForwarder,
  ensureDaemon: () => Promise<void> = async () => undefined,
  extra: Partial<ShimDeps> = {},
  client = new Client({ name: 'unit', version: '0' }),
): Promise<Client> {
  const server = createShimServer({ control, ensureDaemon, version: '0.0.0-test', progressIntervalMs: 0, structuredContent: true, log: () => undefined, ...extra });
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(a);
  await client.connect(b);
  return client;
}

test('tools/list by default: run_python with the real input schema, the short manual and the index, no output schema', async () => {
  const client = await connect(fakeForwarder(async () => success([])), undefined, { structuredContent: undefined });
  const { tools } = await client.listTools();
  assert.equal(tools.length, 1);
  const tool = tools[0]!;
  assert.equal(tool.name, 'run_python');
  assert.ok(tool.description!.startsWith(TOOL_MANUAL), tool.description);
  assert.match(tool.description!, /Servers: not known yet/);
  assert.equal(tool.outputSchema, undefined);
  // Fields a client adds (wait_for_previous) must not be refused by a client that checks the schema.
  assert.notEqual(tool.inputSchema.additionalProperties, false);
  assert.equal('$schema' in tool.inputSchema, false);
  for (const field of ['code', 'servers', 'timeout']) assert.ok(field in (tool.inputSchema.properties ?? {}), field);
  assert.equal((tool.inputSchema.properties as { timeout: { maximum: number } }).timeout.maximum, 120);
});

test('a run by default: only the text content, no structuredContent', async () => {
  const client = await connect(fakeForwarder(async () => success(['42'])), undefined, { structuredContent: undefined });
  const r = await client.callTool({ name: 'run_python', arguments: { code: 'print(42)' } });
  assert.deepEqual(r, { content: [{ type: 'text', text: 'ok 42' }], isError: false });
  const failed = await (
    await connect(fakeForwarder(async () => Promise.reject(new ControlError('busy', 'all in use'))), undefined, { structuredContent: undefined })
  ).callTool({ name: 'run_python', arguments: { code: 'x' } });
  assert.equal(failed.structuredContent, undefined);
  assert.equal(failed.isError, true);
});

test('tools/list with MCP_BRIDGE_STRUCTURED_CONTENT: the output schema too', async () => {
  const client = await connect(fakeForwarder(async () => success([])));
  const { tools } = await client.listTools();
  const tool = tools[0]!;
  assert.equal('$schema' in tool.inputSchema, false);
  // The daemon's input schema, as is (other fields, such as sessions, may join it).
  for (const field of ['code', 'servers', 'timeout']) assert.ok(field in (tool.inputSchema.properties ?? {}), field);
  assert.deepEqual(tool.inputSchema.required, ['code']);
  assert.deepEqual(tool.outputSchema?.required, ['status', 'summary', 'exitCode', 'stdout', 'stderr', 'servers', 'durationMs', 'toolCalls']);
});

test('arguments go to the daemon untouched, even invalid ones: the daemon validates', async () => {
  const control = fakeForwarder(async () => ({
    result: { status: 'validation_error', summary: 'Invalid input: code', exitCode: null, stdout: [], stderr: [], servers: [], durationMs: 0, toolCalls: 0, error: { type: 'ValidationError', message: 'code: expected string' } },
    text: 'invalid',
  }));
  const client = await connect(control);
  const r = await client.callTool({ name: 'run_python', arguments: { code: 5, extra: true } });
  assert.equal(r.isError, true);
  assert.equal((r.structuredContent as { status: string }).status, 'validation_error');
  // canElicit and client are the shim's own, from the MCP client's initialize.
  assert.deepEqual(control.calls, [{ code: 5, extra: true, canElicit: false, client: 'unit' }]);
});

test('at initialize the shim logs the client, what it declared for elicitation, and whether it can be asked', async () => {
  const cases: [ClientCapabilities, string][] = [
    [{}, 'declared no elicitation capability: it cannot be asked for approvals'],
    // The SDK reads an empty elicitation capability as form mode, which the spec says it means.
    [{ elicitation: {} }, 'declared capabilities.elicitation {"form":{}}: approval questions are asked through it'],
    [{ elicitation: { form: {}, url: {} } }, 'declared capabilities.elicitation {"form":{},"url":{}}: approval questions are asked through it'],
    // URL mode alone cannot show the form the question is.
    [{ elicitation: { url: {} } }, 'declared capabilities.elicitation {"url":{}}: it cannot be asked for approvals'],
  ];
  for (const [capabilities, tail] of cases) {
    const lines: string[] = [];
    const client = await connect(fakeForwarder(async () => success([])), undefined, { log: (line) => lines.push(line) }, new Client({ name: 'claude-code', version: '2.1.80' }, { capabilities }));
    await eventually(() => lines.length > 0, 'the shim logged the initialize');
    assert.deepEqual(lines, [`mcp-code-mode-shim: client "claude-code" version "2.1.80" ${tail}`]);
    await client.close();
  }
  // A name is quoted: a client cannot start a log line of its own.
  const lines: string[] = [];
  const forged = await connect(fakeForwarder(async () => success([])), undefined, { log: (line) => lines.push(line) }, new Client({ name: 'x\nmcp-code-mode-shim: forged', version: '1' }));
  await eventually(() => lines.length > 0, 'the shim logged the initialize');
  assert.equal(lines.length, 1);
  assert.doesNotMatch(lines[0]!, /\n/);
  await forged.close();
});

test('a successful run: one text content with the rendered text, structuredContent, isError false', async () => {
  const client = await connect(fakeForwarder(async () => success(['42'])));
  const r = await client.callTool({ name: 'run_python', arguments: { code: 'print(42)' } });
  assert.deepEqual(r.content, [{ type: 'text', text: 'ok 42' }]);
  assert.equal(r.isError, false);
  assert.deepEqual((r.structuredContent as { stdout: string[] }).stdout, ['42']);
});

test('no daemon: the shim starts one and sends the call again, once', async () => {
  let started = 0;
  const control = fakeForwarder(async () => {
    if (started === 0) throw new ControlError('daemon_not_running', 'nothing on the socket');
    return success(['after start']);
  });
  const client = await connect(control, async () => void started++);
  const r = await client.callTool({ name: 'run_python', arguments: { code: 'x' } });
  assert.equal(started, 1);
  assert.equal(control.calls.length, 2);
  assert.deepEqual((r.structuredContent as { stdout: string[] }).stdout, ['after start']);
});

test('a run refused by a stopping daemon (shutting_down) is sent again once the next daemon answers', async () => {
  const answers = ['shutting_down', 'shutting_down', 'daemon_not_running'];
  let ensured = 0;
  const control = fakeForwarder(async () => {
    const code = answers.shift();
    if (code) throw new ControlError(code, `refused: ${code}`);
    return success(['on the new daemon']);
  });
  const client = await connect(control, async () => void ensured++);
  const r = await client.callTool({ name: 'run_python', arguments: { code: 'x' } });
  assert.equal(control.calls.length, 4);
  assert.equal(ensured, 3);
  assert.deepEqual((r.structuredContent as { stdout: string[] }).stdout, ['on the new daemon']);
});

test('a daemon that keeps refusing as shutting_down: the wait ends with a clear error result', async () => {
  const control = fakeForwarder(async () => {
    throw new ControlError('shutting_down', 'the daemon is shutting down; no run was started');
  });
  const client = await connect(control, async () => undefined, { restartWaitMs: 300 });
  const r = await client.callTool({ name: 'run_python', arguments: { code: 'x' } });
  assert.equal(r.isError, true);
  assert.ok(control.calls.length >= 2 && control.calls.length <= 4, `sent ${control.calls.length} times`);
  assert.match((r.content as { text: string }[])[0]!.text, /shutting_down.*no run was started/);
});

test('a daemon that cannot be started for good is tried a bounded number of times', async () => {
  let ensured = 0;
  const control = fakeForwarder(async () => {
    throw new ControlError('daemon_not_running', 'nothing on the socket');
  });
  const client = await connect(control, async () => void ensured++);
  const r = await client.callTool({ name: 'run_python', arguments: { code: 'x' } });
  assert.equal(r.isError, true);
  assert.equal(control.calls.length, 3);
  assert.equal(ensured, 2);
});

test('autostart refused: a clear error result, not a protocol error', async () => {
  const control = fakeForwarder(async () => {
    throw new ControlError('daemon_not_running', 'nothing on the socket');
  });
  const client = await connect(control, async () => {
    throw new ControlError('autostart_disabled', 'MCP_BRIDGE_AUTOSTART=0: start it with `mcp-code-mode start`');
  });
  const r = await client.callTool({ name: 'run_python', arguments: { code: 'x' } });
  assert.equal(r.isError, true);
  assert.match((r.content as { text: string }[])[0]!.text, /autostart_disabled.*mcp-code-mode start/);
  const result = r.structuredContent as { status: string; error: { type: string } };
  assert.equal(result.status, 'error');
  assert.equal(result.error.type, 'DaemonError');
});

test('a connection that breaks mid-run is not retried (the code may have had effects)', async () => {
  let ensured = 0;
  const control = fakeForwarder(async () => {
    throw new ControlError('daemon_unreachable', 'the daemon connection broke: socket hang up');
  });
  const client = await connect(control, async () => void ensured++);
  const r = await client.callTool({ name: 'run_python', arguments: { code: 'x' } });
  assert.equal(control.calls.length, 1);
  assert.equal(ensured, 0);
  assert.equal(r.isError, true);
  assert.match((r.content as { text: string }[])[0]!.text, /daemon_unreachable.*next call/);
});

test('progress: with a progress token, output chunks become notifications carrying the output so far', async () => {
  const control = fakeForwarder(async (_call, options) => {
    assert.ok(options?.onOutput, 'streaming is asked for');
    options.onOutput('stdout', 'one\n');
    await new Promise((r) => setTimeout(r, 5));
    options.onOutput('stderr', 'warn\n');
    await new Promise((r) => setTimeout(r, 5));
    return success(['one']);
  });
  const client = await connect(control);
  const seen: { progress: number; message?: string }[] = [];
  await client.callTool({ name: 'run_python', arguments: { code: 'x' } }, undefined, { onprogress: (p) => seen.push(p) });
  assert.deepEqual(seen, [
    { progress: 1, message: 'one' },
    { progress: 2, message: 'one\n[stderr] warn' },
  ]);
});

test('without a progress token the run is not streamed', async () => {
  const control = fakeForwarder(async (_call, options) => {
    assert.equal(options?.onOutput, undefined);
    return success([]);
  });
  const client = await connect(control);
  await client.callTool({ name: 'run_python', arguments: { code: 'x' } });
});

test("the client's cancellation aborts the request to the daemon", async () => {
  let aborted!: () => void;
  const wasAborted = new Promise<void>((resolve) => (aborted = resolve));
  const control = fakeForwarder(
    (_call, options) =>
      new Promise((_resolve, reject) => {
        options?.signal?.addEventListener('abort', () => {
          aborted();
          reject(new Error('aborted'));
        });
      }),
  );
  const client = await connect(control);
  const cancel = new AbortController();
  const call = client.callTool({ name: 'run_python', arguments: { code: 'x' } }, undefined, { signal: cancel.signal });
  await new Promise((r) => setTimeout(r, 10));
  cancel.abort();
  await assert.rejects(call);
  await wasAborted;
});

test('an unknown tool is a protocol error; the capabilities resource is readable', async () => {
  const client = await connect(fakeForwarder(async () => success([])));
  await assert.rejects(client.callTool({ name: 'run_js', arguments: {} }), /unknown tool "run_js"/);
  const { resources } = await client.listResources();
  assert.equal(resources[0]?.uri, CAPABILITIES_URI);
  const read = await client.readResource({ uri: CAPABILITIES_URI });
  assert.equal((read.contents[0] as { text: string }).text, SANDBOX_MANUAL);
  await assert.rejects(client.readResource({ uri: 'resource://mcp-code-mode/other' }), /no resource/);
});
