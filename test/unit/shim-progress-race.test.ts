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
 * MCP forbids a progress notification after the result of its request (Claude Code logs "unknown
 * token" and drops the connection). Every plan is played many times against the real SDK Server
 * and Client, with progress intervals of 0 to 3 ms, and the order of messages as the client got
 * them is checked.
 */
for (const [name, plan] of Object.entries(plans)) {
  test(`no progress notification after the result: ${name}`, async () => {
    for (const intervalMs of [0, 1, 2, 3]) {
      const control: RunForwarder = {
        answerApproval: async () => undefined,
        run: async (_call, options) => {
          await plan(options!.onOutput!);
          return done;
        },
      };
      const server = createShimServer({ control, ensureDaemon: async () => undefined, version: '0', progressIntervalMs: intervalMs, indexPollMs: 0, log: () => undefined });
      const [serverSide, clientSide] = InMemoryTransport.createLinkedPair();
      await server.connect(serverSide);
      const client = new Client({ name: 'race', version: '0' });
      const errors: string[] = [];
      client.onerror = (err) => errors.push(err.message);
      await client.connect(clientSide);
      // What reached the client, in order: notifications with their token, responses with their id.
      const seen: { kind: 'progress' | 'result'; id: string }[] = [];
      const deliver = clientSide.onmessage!;
      clientSide.onmessage = (message: JSONRPCMessage, extra) => {
        const m = message as { method?: string; params?: { progressToken?: unknown }; id?: unknown; result?: unknown };
        if (m.method === 'notifications/progress') seen.push({ kind: 'progress', id: String(m.params?.progressToken) });
        else if (m.id !== undefined && m.result !== undefined) seen.push({ kind: 'result', id: String(m.id) });
        deliver(message, extra);
      };
      let progressSeen = 0;
      await Promise.all(
        Array.from({ length: 25 }, () =>
          client.callTool({ name: 'run_python', arguments: { code: 'x' } }, undefined, { onprogress: () => void progressSeen++ }),
        ),
      );
      // Late timers and stray chunks, if any were left, would fire now.
      await delay(10);
      await client.close();
      const answered = new Set<string>();
      for (const event of seen) {
        if (event.kind === 'result') answered.add(event.id);
        else assert.ok(!answered.has(event.id), `interval ${intervalMs} ms: a progress notification for request ${event.id} after its result`);
      }
      assert.deepEqual(errors, [], `interval ${intervalMs} ms`);
      assert.ok(progressSeen > 0, 'the runs did report progress (the test can fail)');
    }
  });
}
