import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
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

type Seen = { kind: 'progress' | 'result'; id: string; at: number };

/** Notes each progress notification (by token) and each result (by id) as the server writes it, with the time. */
function tap(serverSide: InMemoryTransport, seen: Seen[]): void {
  const send = serverSide.send.bind(serverSide);
  serverSide.send = (message, options) => {
    const m = message as { method?: string; params?: { progressToken?: unknown }; id?: unknown; result?: unknown };
    if (m.method === 'notifications/progress') seen.push({ kind: 'progress', id: String(m.params?.progressToken), at: performance.now() });
    else if (m.id !== undefined && m.result !== undefined) seen.push({ kind: 'result', id: String(m.id), at: performance.now() });
    return send(message, options);
  };
}

/**
 * The client's side of a pipe whose reader is slow: what the server writes within one turn of the
 * event loop reaches the client in one read, and the client handles the messages of one read one
 * after the other in the same tick, as the SDK's stdio transport does with the lines of one chunk.
 */
function pipeLike(clientSide: InMemoryTransport): void {
  const deliver = clientSide.onmessage!;
  let batch: Parameters<typeof deliver>[] = [];
  clientSide.onmessage = (message: JSONRPCMessage, extra) => {
    if (batch.length === 0)
      setImmediate(() => {
        const read = batch;
        batch = [];
        for (const args of read) deliver(...args);
      });
    batch.push([message, extra]);
  };
}

/** The real SDK Client connected to `server` in memory; `errors` collects what the client reports. */
async function connected(server: Server) {
  const [serverSide, clientSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: 'race', version: '0' });
  const errors: string[] = [];
  client.onerror = (err) => errors.push(err.message);
  await client.connect(clientSide);
  return { serverSide, clientSide, client, errors };
}

/** 25 concurrent runs played by `plan` against the real SDK Server and Client. */
async function playRuns(plan: Plan, intervalMs: number, settleMs: number) {
  const control: RunForwarder = {
    answerApproval: async () => undefined,
    run: async (_call, options) => {
      await plan(options!.onOutput!);
      return done;
    },
  };
  const server = createShimServer({ control, ensureDaemon: async () => undefined, version: '0', progressIntervalMs: intervalMs, progressSettleMs: settleMs, indexPollMs: 0, log: () => undefined });
  const { serverSide, client, errors } = await connected(server);
  const seen: Seen[] = [];
  tap(serverSide, seen);
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
 * MCP forbids a progress notification after the result of its request; and the SDK's client
 * (Claude Code's among them) reports "unknown token" for one that comes in the same read as the
 * result, so the result is written no sooner than `settleMs` after the request's last
 * notification. Every plan is played many times with progress intervals of 0 to 3 ms; the order
 * and times of what the server wrote are checked, and that the client saw no protocol error.
 */
const SETTLE_MS = 15;
for (const [name, plan] of Object.entries(plans)) {
  test(`no progress notification after the result, and the result ${SETTLE_MS} ms or more after the last one: ${name}`, async () => {
    let progressSeen = 0;
    for (const intervalMs of [0, 1, 2, 3]) {
      const run = await playRuns(plan, intervalMs, SETTLE_MS);
      const answered = new Set<string>();
      const lastProgress = new Map<string, number>();
      for (const event of run.seen) {
        if (event.kind === 'progress') {
          assert.ok(!answered.has(event.id), `interval ${intervalMs} ms: a progress notification for request ${event.id} after its result`);
          lastProgress.set(event.id, event.at);
          continue;
        }
        answered.add(event.id);
        const last = lastProgress.get(event.id);
        // A timer may fire up to a millisecond early on the clock it is measured with.
        if (last !== undefined) assert.ok(event.at - last >= SETTLE_MS - 1, `interval ${intervalMs} ms: request ${event.id} answered ${(event.at - last).toFixed(2)} ms after its last progress notification`);
      }
      assert.equal(answered.size, 25);
      assert.deepEqual(run.errors, [], `interval ${intervalMs} ms`);
      progressSeen += run.progressSeen;
    }
    assert.ok(progressSeen > 0, 'the runs did report progress (the test can fail)');
  });
}

test('why the result waits: a server that answers right after a progress notification, read by a slow reader, gets the SDK client\'s error', async () => {
  const server = new Server({ name: 'eager', version: '0' }, { capabilities: { tools: {} } });
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    await extra.sendNotification({ method: 'notifications/progress', params: { progressToken: request.params._meta!.progressToken!, progress: 1, message: 'x' } });
    return { content: [{ type: 'text', text: 'ok' }] };
  });
  const { clientSide, client, errors } = await connected(server);
  pipeLike(clientSide);
  await client.callTool({ name: 'x', arguments: {} }, undefined, { onprogress: () => undefined });
  await client.close();
  assert.ok(errors.some((e) => /unknown token/.test(e)), `errors: ${JSON.stringify(errors)}`);
});
