import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { IndexServer, ServerIndex } from '@mcp-code-mode/protocol';
import { ControlError } from '@mcp-code-mode/client';
import { IndexSource } from '../../shim/src/index-source.ts';
import { indexText } from '../../shim/src/index-text.ts';
import { DESCRIPTION_LIMIT, runPythonTool, serverInstructions, toolDescription, TOOL_MANUAL } from '../../shim/src/manual.ts';

/** `n` servers of `tools` tools each, with long descriptions and long tool names: the worst case for the budget. */
export function manyServers(n: number, tools = 40): ServerIndex {
  const servers: IndexServer[] = Array.from({ length: n }, (_, i) => ({
    name: `server-${i}`,
    alias: `server_${i}`,
    description: `Server number ${i} does a great many things for a great many people, and says so at length. Second sentence.`,
    state: 'available',
    tools: Array.from({ length: tools }, (_, j) => ({ name: `some_rather_long_tool_name_${i}_${j}`, required: ['query', 'limit'], optional: j % 2 })),
  }));
  return { servers, problems: [] };
}

const limits = { timeoutSec: 30, maxTimeoutSec: 120 };

test('0, 3 and 10 servers with many tools: the description, index included, stays under 2,048 characters; so do the instructions', () => {
  for (const n of [0, 3, 10, 60]) {
    const state = { index: manyServers(n) };
    const description = toolDescription(state);
    assert.ok(description.length < DESCRIPTION_LIMIT, `${n} servers: ${description.length} characters`);
    assert.ok(description.startsWith(TOOL_MANUAL));
    assert.ok(serverInstructions(state).length < DESCRIPTION_LIMIT, `${n} servers: instructions of ${serverInstructions(state).length}`);
    for (let i = 0; i < Math.min(n, 10); i++) assert.match(description, new RegExp(`^- server-${i} \\(mcp_server_${i}\\)`, 'm'), `${n} servers: server-${i} named`);
    if (n > 0) {
      assert.match(description, /…\+\d+/, 'cut lists say how many are left');
      assert.match(description, /runtime\.search_tool_docs/, 'and where to find the rest');
    } else {
      assert.match(description, /No MCP servers are configured/);
    }
  }
  assert.match(toolDescription({ index: manyServers(60) }), /…\+\d+ more: `runtime\.discovered_servers\(\)`/, 'servers past the budget are counted');
});

test('a small index is shown whole: name, proxy when it differs, one line, every tool; unavailable servers with the reason', () => {
  const index: ServerIndex = {
    servers: [
      {
        name: 'everything',
        alias: 'everything',
        description: 'Exercises every MCP feature. Long second sentence.',
        state: 'available',
        tools: [
          { name: 'echo', required: ['message'], optional: 0 },
          { name: 'get_sum', required: ['a', 'b'], optional: 0 },
          { name: 'get_env', required: [], optional: 0 },
          { name: 'search', required: ['q'], optional: 2 },
        ],
      },
      { name: 'my-db', alias: 'my_db', state: 'unavailable', tools: [], reason: 'could not be started (spawn /nope ENOENT)' },
    ],
    problems: [{ path: '/x.json', message: 'bad' }],
  };
  assert.equal(
    indexText({ index }, 1000),
    [
      'MCP servers (name — about: tools):',
      '- everything — Exercises every MCP feature: echo(message), get_sum(a, b), get_env(), search(q, …)',
      '- my-db (mcp_my_db): unavailable: could not be started (spawn /nope ENOENT)',
      '1 config problem: `mcp-code-mode servers`.',
    ].join('\n'),
  );
  assert.match(indexText({ missing: 'no daemon is running yet' }, 1000), /^Servers: not known yet \(no daemon is running yet\)/);
  // Short of room, the description goes first, then the arguments, then names are counted.
  const one = { index: { servers: [index.servers[0]!], problems: [] } };
  const line = (budget: number) => indexText(one, budget).split('\n')[1];
  assert.equal(line(300), '- everything — Exercises every MCP feature: echo(message), get_sum(a, b), get_env(), search(q, …)');
  assert.equal(line(190), '- everything: echo(message), get_sum(a, b), get_env(), search(q, …)');
  assert.equal(line(160), '- everything: echo, get_sum, get_env, search');
  assert.equal(line(150), '- everything: echo, get_sum, …+2');
});

test('the servers property lists the valid names; timeout advertises the real maximum; no output schema unless asked', () => {
  const state = { index: manyServers(3, 2) };
  const tool = runPythonTool({ state, limits, structured: false });
  const props = tool.inputSchema.properties as Record<string, { items?: { enum?: string[] }; maximum?: number; description?: string }>;
  assert.deepEqual(props.servers!.items!.enum, ['server-0', 'server-1', 'server-2']);
  assert.equal(props.timeout!.maximum, 120);
  assert.match(props.timeout!.description!, /default 30, at most 120 \(MCP_BRIDGE_MAX_TIMEOUT/);
  assert.equal(tool.outputSchema, undefined);
  assert.ok(runPythonTool({ state, limits, structured: true }).outputSchema);
  const none = runPythonTool({ state: { index: manyServers(0) }, limits, structured: false }).inputSchema.properties as Record<string, { items?: { enum?: string[] } }>;
  assert.equal(none.servers!.items!.enum, undefined, 'no empty enum');
});

test('the index source: a daemon not running is started only when asked to, and a later failure keeps the last index', async () => {
  let up = false;
  let fail = false;
  let starts = 0;
  const source = new IndexSource({
    control: {
      get: async () => {
        if (!up) throw new ControlError('daemon_not_running', 'no daemon answers at /x.sock (start it)');
        if (fail) throw new ControlError('daemon_timeout', 'hung');
        return { ...manyServers(1, 1), limits: { timeoutSec: 10, maxTimeoutSec: 60 } };
      },
    },
    ensureDaemon: async () => {
      starts++;
      up = true;
    },
    limits,
  });
  assert.equal(source.loaded, false);
  await source.refresh({ start: false });
  assert.deepEqual(source.current(), { missing: 'no daemon is running yet' });
  assert.equal(starts, 0);
  assert.deepEqual(source.limits(), limits);
  const before = source.key();
  await source.refresh({ start: true });
  assert.equal(starts, 1);
  assert.equal(source.loaded, true);
  assert.deepEqual(source.limits(), { timeoutSec: 10, maxTimeoutSec: 60 }, "the daemon's own limits win");
  assert.notEqual(source.key(), before);
  const loaded = source.key();
  fail = true;
  await source.refresh({ start: true });
  assert.equal(source.key(), loaded, 'a daemon that stopped answering does not take the servers away');
});

test('the index source: autostart refused is the reason shown, in one sentence', async () => {
  const source = new IndexSource({
    control: { get: async () => Promise.reject(new ControlError('daemon_not_running', 'none')) },
    ensureDaemon: async () => Promise.reject(new ControlError('autostart_disabled', 'no daemon is running for /s, and MCP_BRIDGE_AUTOSTART=0 forbids starting one. Start it with `mcp-code-mode start`.')),
    limits,
  });
  await source.refresh({ start: true });
  assert.deepEqual(source.current(), { missing: 'no daemon is running for /s, and MCP_BRIDGE_AUTOSTART=0 forbids starting one.' });
});

test('the index never passes its budget, whatever the number of servers and tools', () => {
  for (const budget of [300, 500, 800, 1100, 1500, 2000]) {
    for (const n of [1, 2, 5, 12, 40]) {
      for (const tools of [0, 1, 7, 50]) {
        const index = manyServers(n, tools);
        index.servers[0] = { ...index.servers[0]!, state: 'unavailable', tools: [], reason: 'x'.repeat(400) };
        const text = indexText({ index }, budget);
        assert.ok(text.length <= budget, `${n} servers of ${tools} tools in ${budget}: ${text.length}`);
        assert.match(text, /^- server-0/m, 'the first server is always there');
      }
    }
  }
});
