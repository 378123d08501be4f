import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import type { ServerIndex } from '@mcp-code-mode/protocol';
import { ControlError } from '@mcp-code-mode/client';
import { IndexSource } from '../../shim/src/index-source.ts';
import { createShimServer, type ShimDeps } from '../../shim/src/server.ts';

const limits = { timeoutSec: 30, maxTimeoutSec: 120 };
const index = (...names: string[]): ServerIndex => ({
  servers: names.map((name) => ({ name, alias: name, state: 'available', tools: [{ name: 'echo', required: ['message'], optional: 0 }] })),
  problems: [],
});

/** A daemon the test controls: down or up, its index, and how long it takes to answer. */
function fakeDaemon() {
  const daemon = { up: false, index: index('alpha'), answerMs: 0, starts: 0, fetches: 0 };
  const control = {
    run: async () => Promise.reject(new Error('not in this test')),
    answerApproval: async () => undefined,
    get: async () => {
      daemon.fetches++;
      if (!daemon.up) throw new ControlError('daemon_not_running', 'nothing on the socket');
      await delay(daemon.answerMs);
      return daemon.index;
    },
  };
  const ensureDaemon = async (): Promise<void> => {
    daemon.starts++;
    daemon.up = true;
  };
  return { daemon, control, ensureDaemon };
}

async function connect(deps: Partial<ShimDeps> & Pick<ShimDeps, 'control' | 'ensureDaemon' | 'index'>) {
  const server = createShimServer({ version: '0', indexPollMs: 0, log: () => undefined, ...deps });
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(a);
  const client = new Client({ name: 'unit', version: '0' });
  const changes: number[] = [];
  client.setNotificationHandler(ToolListChangedNotificationSchema, async () => void changes.push(Date.now()));
  await client.connect(b);
  const description = async () => (await client.listTools()).tools[0]!.description!;
  return { server, client, changes, description, [Symbol.asyncDispose]: () => client.close() };
}

test('no daemon at initialize: the instructions say so, tools/list starts one and answers with its servers', async () => {
  const { daemon, control, ensureDaemon } = fakeDaemon();
  const source = new IndexSource({ control, ensureDaemon, limits });
  await source.refresh({ start: false });
  await using shim = await connect({ control, ensureDaemon, index: source });
  assert.match(shim.client.getInstructions() ?? '', /Servers: not known yet \(no daemon is running yet\)/);
  assert.equal(daemon.starts, 0, 'the start does not start a daemon');
  const text = await shim.description();
  assert.equal(daemon.starts, 1);
  assert.match(text, /^- alpha: echo\(message\)$/m);
  assert.deepEqual((await shim.client.listTools()).tools[0]!.inputSchema.properties!.servers, {
    type: 'array',
    maxItems: 64,
    default: [],
    items: { type: 'string', enum: ['alpha'] },
    description: 'MCP servers this run may call, as mcp_<name> proxies; only these are reachable.',
  });
  await delay(20);
  assert.deepEqual(shim.changes, [], 'the answer had the new index: no list_changed for it');
});

test('an index slower than tools/list: tools/list answers at once, then list_changed, then the new list', async () => {
  const { daemon, control, ensureDaemon } = fakeDaemon();
  daemon.up = true;
  daemon.answerMs = 150;
  const source = new IndexSource({ control, ensureDaemon, limits });
  await using shim = await connect({ control, ensureDaemon, index: source, indexWaitMs: 20 });
  assert.match(await shim.description(), /not known yet/);
  await delay(250);
  assert.equal(shim.changes.length, 1);
  daemon.answerMs = 0;
  assert.match(await shim.description(), /^- alpha: echo\(message\)$/m);
});

test('the timer notices new servers and sends list_changed once per change, only to a client that listed the tool', async () => {
  const { daemon, control, ensureDaemon } = fakeDaemon();
  daemon.up = true;
  const source = new IndexSource({ control, ensureDaemon, limits });
  await source.refresh({ start: false });
  await using shim = await connect({ control, ensureDaemon, index: source, indexPollMs: 20 });
  daemon.index = index('alpha', 'beta');
  await delay(80);
  assert.deepEqual(shim.changes, [], 'no list_changed before the client has listed the tool');
  await shim.description();
  daemon.index = index('alpha', 'beta', 'gamma');
  await delay(100);
  assert.equal(shim.changes.length, 1, 'one notification for one change, however many polls');
  assert.match(await shim.description(), /^- gamma: echo\(message\)$/m);
  daemon.up = false;
  await delay(80);
  assert.equal(shim.changes.length, 1, 'a daemon that stopped does not take the servers away');
  assert.match(await shim.description(), /^- gamma: echo\(message\)$/m);
});

test('a tools/list answered by a quick index leaves no timer that holds the shim open (it exits at once when the client closes it)', async () => {
  const { daemon, control, ensureDaemon } = fakeDaemon();
  daemon.up = true;
  const source = new IndexSource({ control, ensureDaemon, limits });
  await using shim = await connect({ control, ensureDaemon, index: source, indexWaitMs: 60_000 });
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const before = timers();
  await shim.description();
  // The wait for a slow index (60 s here) must not keep the process alive once the index came.
  assert.equal(timers(), before);
});
