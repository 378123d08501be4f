import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { RunResponse } from '@mcp-code-mode/protocol';
import { createShimServer, type RunForwarder } from '../../shim/src/server.ts';

const done: RunResponse = {
  result: { status: 'success', summary: 'Success in 1 ms', exitCode: 0, stdout: ['x'], stderr: [], servers: [], durationMs: 1, toolCalls: 0 },
  text: 'ok',
};

/** How one run's output and completion are timed against the progress timer. */
type Plan = (onOutput: (stream: string, text: string) => void) => Promise<void>;

const plans: Record<string, Plan> = {
  'output in the same tick as the result': async (out) => out('stdout', 'last\n'),
  'output, then a merged chunk whose timer is pending at the result': async (out) => {
    out('stdout', 'a\n');
    out('stdout', 'b\n');
  },
  'a chunk whose timer fires about when the run ends': async (out) => {
    out('stdout', 'a\n');
    out('stdout', 'b\n');
    await delay(Math.floor(Math.random() * 4));
  },
  'a flood of chunks until the end': async (out) => {
    for (let i = 0; i < 50; i++) {
      out(i % 3 === 0 ? 'stderr' : 'stdout', `line ${i}\n`);
      if (i % 10 === 0) await delay(Math.floor(Math.random() * 3));
    }
  },
  'a stray chunk right after the result (a late stream line)': async (out) => {
    out('stdout', 'a\n');
    setImmediate(() => out('stdout', 'late\n'));
    queueMicrotask(() => out('stdout', 'later\n'));
  },
};

/**
 * The client's side of a pipe: what the server writes within one turn of the event loop reaches
 * the client in one read, and the client handles the messages of one read one after the other in
 * the same tick, as the SDK's stdio transport does with the lines of one chunk.
 */
function pipeLike(clientSide: InMemoryTransport, seen: { kind: 'progress' | 'result'; id: string }[]): void {
  const deliver = clientSide.onmessage!;
  let batch: Parameters<typeof deliver>[] = [];
  clientSide.onmessage = (message: JSONRPCMessage, extra) => {
    const m = message as { method?: string; params?: { progressToken?: unknown }; id?: unknown; result?: unknown };
    if (m.method === 'notifications/progress') seen.push({ kind: 'progress', id: String(m.params?.progressToken) });
    else if (m.id !== undefined && m.result !== undefined) seen.push({ kind: 'result', id: String(m.id) });
    if (batch.length === 0)
      setImmediate(() => {
        const read = batch;
        batch = [];
        for (const args of read) deliver(...args);
      });
    batch.push([message, extra]);
  };
}

/** 25 concurrent runs played by `plan` against the real SDK Server and Client over a pipe-like transport. */
async function playRuns(plan: Plan, intervalMs: number, settleMs?: number) {
  const control: RunForwarder = {
    answerApproval: async () => undefined,
    run: async (_call, options) => {
      await plan(options!.onOutput!);
      return done;
    },
  };
  const server = createShimServer({
    control,
    ensureDaemon: async () => undefined,
    version: '0',
    progressIntervalMs: intervalMs,
    ...(settleMs !== undefined ? { progressSettleMs: settleMs } : {}),
    indexPollMs: 0,
    log: () => undefined,
  });
  const [serverSide, clientSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: 'race', version: '0' });
  const errors: string[] = [];
  client.onerror = (err) => errors.push(err.message);
  await client.connect(clientSide);
  // What reached the client, in order: notifications with their token, responses with their id.
  const seen: { kind: 'progress' | 'result'; id: string }[] = [];
  pipeLike(clientSide, seen);
  let progressSeen = 0;
  await Promise.all(
    Array.from({ length: 25 }, () => client.callTool({ name: 'run_python', arguments: { code: 'x' } }, undefined, { onprogress: () => void progressSeen++ })),
  );
  // Late timers and stray chunks, if any were left, would fire now.
  await delay(10);
  await client.close();
  return { seen, errors, progressSeen };
}

/**
 * MCP forbids a progress notification after the result of its request, and the SDK's client
 * (Claude Code's among them) reports "unknown token" for one that came in the same read as the
 * result. Every plan is played many times with progress intervals of 0 to 3 ms, and the order of
 * messages as the client got them is checked, and that the client saw no protocol error.
 */
for (const [name, plan] of Object.entries(plans)) {
  test(`no progress notification after the result, none in the same read: ${name}`, async () => {
    let progressSeen = 0;
    for (const intervalMs of [0, 1, 2, 3]) {
      const run = await playRuns(plan, intervalMs, 5);
      const answered = new Set<string>();
      for (const event of run.seen) {
        if (event.kind === 'result') answered.add(event.id);
        else assert.ok(!answered.has(event.id), `interval ${intervalMs} ms: a progress notification for request ${event.id} after its result`);
      }
      assert.deepEqual(run.errors, [], `interval ${intervalMs} ms`);
      progressSeen += run.progressSeen;
    }
    assert.ok(progressSeen > 0, 'the runs did report progress (the test can fail)');
  });
}

test('without the hold after the last notification, the SDK client reports the race this guards against', async () => {
  const run = await playRuns(plans['output in the same tick as the result']!, 0, 0);
  assert.ok(run.errors.some((e) => /unknown token/.test(e)), `errors: ${JSON.stringify(run.errors)}`);
});
