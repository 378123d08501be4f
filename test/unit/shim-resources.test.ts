import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { ResourceListChangedNotificationSchema, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import type { ServerIndex, ServerStub } from '@mcp-code-mode/protocol';
import { ControlError } from '@mcp-code-mode/client';
import { IndexSource } from '../../shim/src/index-source.ts';
import { CAPABILITIES_URI } from '../../shim/src/manual.ts';
import { stubAlias, stubUri } from '../../shim/src/resources.ts';
import { createShimServer } from '../../shim/src/server.ts';

const limits = { timeoutSec: 30, maxTimeoutSec: 120 };
const index = (...names: string[]): ServerIndex => ({
  servers: names.map((name) =>
    name.startsWith('down')
      ? { name, alias: name.replace(/-/g, '_'), state: 'unavailable', tools: [], reason: 'spawn ENOENT' }
      : { name, alias: name.replace(/-/g, '_'), state: 'available', tools: [{ name: 'echo', required: ['message'], optional: 0 }] },
  ),
  problems: [],
});

/** A daemon the test controls: up or down, its index, and its answer to GET /v1/stubs/:alias. */
function fakeDaemon() {
  const daemon = { up: true, index: index('alpha', 'beta-two'), starts: 0, asked: [] as string[], stubError: undefined as ControlError | undefined };
  const control = {
    run: async () => Promise.reject(new Error('not in this test')),
    answerApproval: async () => undefined,
    get: async () => {
      if (!daemon.up) throw new ControlError('daemon_not_running', 'nothing on the socket');
      return daemon.index;
    },
    stub: async (alias: string): Promise<ServerStub> => {
      daemon.asked.push(alias);
      if (!daemon.up) throw new ControlError('daemon_not_running', 'nothing on the socket');
      if (daemon.stubError) throw daemon.stubError;
      return { name: alias, alias, stub: `"""MCP server ${alias}"""\n\nasync def echo(*, message: str): ...\n` };
    },
  };
  const ensureDaemon = async (): Promise<void> => {
    daemon.starts++;
    daemon.up = true;
  };
  return { daemon, control, ensureDaemon };
}

async function connect(fake: ReturnType<typeof fakeDaemon>, indexPollMs = 0) {
  const source = new IndexSource({ control: fake.control, ensureDaemon: fake.ensureDaemon, limits });
  const server = createShimServer({ control: fake.control, ensureDaemon: fake.ensureDaemon, version: '0', index: source, stubs: fake.control, indexPollMs });
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(a);
  const client = new Client({ name: 'unit', version: '0' });
  const changes = { resources: 0, tools: 0 };
  client.setNotificationHandler(ResourceListChangedNotificationSchema, async () => void changes.resources++);
  client.setNotificationHandler(ToolListChangedNotificationSchema, async () => void changes.tools++);
  await client.connect(b);
  return { client, changes, [Symbol.asyncDispose]: () => client.close() };
}

test('resource URIs: alias in, alias out; anything else is not a server resource', () => {
  assert.equal(stubUri('beta_two'), 'resource://mcp-code-mode/servers/beta_two.pyi');
  assert.equal(stubAlias(stubUri('beta_two')), 'beta_two');
  for (const uri of ['resource://mcp-code-mode/servers/.pyi', 'resource://mcp-code-mode/servers/alpha', 'resource://mcp-code-mode/capabilities', 'resource://mcp-code-mode/servers/%E0.pyi']) {
    assert.equal(stubAlias(uri), undefined, uri);
  }
});

test('resources/list: the manual, then one Python stub per configured server; reading one gives the daemon’s stub', async () => {
  const fake = fakeDaemon();
  fake.daemon.index = index('alpha', 'beta-two', 'down-one');
  await using shim = await connect(fake);
  assert.deepEqual(shim.client.getServerCapabilities()?.resources, { listChanged: true });
  const { resources } = await shim.client.listResources();
  assert.deepEqual(
    resources.map((r) => [r.uri, r.mimeType]),
    [
      [CAPABILITIES_URI, 'text/markdown'],
      ['resource://mcp-code-mode/servers/alpha.pyi', 'text/x-python'],
      ['resource://mcp-code-mode/servers/beta_two.pyi', 'text/x-python'],
      ['resource://mcp-code-mode/servers/down_one.pyi', 'text/x-python'],
    ],
  );
  assert.match(resources[2]!.description!, /The 1 tools of MCP server "beta-two" \(mcp_beta_two in run_python\)/);
  assert.match(resources[3]!.description!, /unavailable: spawn ENOENT/);
  const read = await shim.client.readResource({ uri: 'resource://mcp-code-mode/servers/beta_two.pyi' });
  assert.deepEqual(read.contents, [{ uri: 'resource://mcp-code-mode/servers/beta_two.pyi', mimeType: 'text/x-python', text: '"""MCP server beta_two"""\n\nasync def echo(*, message: str): ...\n' }]);
  assert.deepEqual(fake.daemon.asked, ['beta_two']);
});

test('an unknown alias or URI is refused with the resources there are; the daemon is not asked', async () => {
  const fake = fakeDaemon();
  await using shim = await connect(fake);
  await assert.rejects(
    shim.client.readResource({ uri: 'resource://mcp-code-mode/servers/gamma.pyi' }),
    /no MCP server has the alias "gamma" \(resource:\/\/mcp-code-mode\/servers\/gamma\.pyi\); the server resources are resource:\/\/mcp-code-mode\/servers\/alpha\.pyi, resource:\/\/mcp-code-mode\/servers\/beta_two\.pyi/,
  );
  await assert.rejects(shim.client.readResource({ uri: 'resource://mcp-code-mode/other' }), /no resource resource:\/\/mcp-code-mode\/other; this server has resource:\/\/mcp-code-mode\/capabilities, or resource:\/\/mcp-code-mode\/servers\/<alias>\.pyi \(the server resources are .*alpha\.pyi/);
  assert.deepEqual(fake.daemon.asked, []);
});

test('a server added since the last index is found by asking again; a daemon error reaches the client with its code', async () => {
  const fake = fakeDaemon();
  await using shim = await connect(fake);
  await shim.client.listResources();
  fake.daemon.index = index('alpha', 'beta-two', 'gamma');
  const read = await shim.client.readResource({ uri: stubUri('gamma') });
  assert.match((read.contents[0] as { text: string }).text, /MCP server gamma/);
  fake.daemon.stubError = new ControlError('server_unavailable', 'MCP server "alpha" (alpha) is unavailable: spawn ENOENT');
  await assert.rejects(shim.client.readResource({ uri: stubUri('alpha') }), /cannot read resource:\/\/mcp-code-mode\/servers\/alpha\.pyi \(server_unavailable\): MCP server "alpha" \(alpha\) is unavailable: spawn ENOENT/);
});

test('no daemon: reading a server resource starts one and answers', async () => {
  const fake = fakeDaemon();
  fake.daemon.up = false;
  await using shim = await connect(fake);
  const read = await shim.client.readResource({ uri: stubUri('alpha') });
  assert.match((read.contents[0] as { text: string }).text, /async def echo/);
  assert.equal(fake.daemon.starts, 1);
});

test('a new server sends resources/list_changed once, only to a client that listed the resources', async () => {
  const fake = fakeDaemon();
  await using shim = await connect(fake, 20);
  fake.daemon.index = index('alpha');
  await delay(80);
  assert.equal(shim.changes.resources, 0, 'no list_changed before the client has listed the resources');
  assert.equal((await shim.client.listResources()).resources.length, 2);
  fake.daemon.index = index('alpha', 'gamma');
  await delay(120);
  assert.equal(shim.changes.resources, 1, 'one notification for one change, however many polls');
  assert.equal(shim.changes.tools, 0, 'the tool was never listed: no tools/list_changed');
  const { resources } = await shim.client.listResources();
  assert.deepEqual(resources.map((r) => r.uri).slice(1), [stubUri('alpha'), stubUri('gamma')]);
  await delay(80);
  assert.equal(shim.changes.resources, 1);
});
