import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ServerInfo } from '@mcp-code-mode/protocol';
import { RpcFailure } from '../../daemon/src/rpc/rpc-failure.ts';
import { EmptyToolHost } from '../../daemon/src/rpc/tool-host.ts';
import { buildServerIndex } from '../../daemon/src/upstreams/server-index.ts';

/** A tool host whose servers answer describe() as the test says: a value, an error, or never. */
class FakeHost extends EmptyToolHost {
  constructor(private readonly answers: Record<string, ServerInfo | Error | 'hang'>) {
    super();
  }
  override discovered(): string[] {
    return Object.keys(this.answers);
  }
  override async describe(servers: string[], signal?: AbortSignal): Promise<ServerInfo[]> {
    const answer = this.answers[servers[0]!]!;
    if (answer === 'hang') {
      return new Promise(() => undefined);
    }
    if (answer instanceof Error) throw answer;
    return [answer];
  }
  override status() {
    return { servers: [], problems: [{ path: '/home/me/.gemini/settings.json', message: 'not valid JSON' }] };
  }
}

test('the index lists every server: tools of the ones that answer, the reason for the others, and the config problems', async () => {
  const host = new FakeHost({
    everything: { name: 'everything', alias: 'everything', description: 'A test server.\nWith   many\tfeatures.', tools: [
      { name: 'get-sum', alias: 'get_sum', inputSchema: { type: 'object', properties: { a: {}, b: {} }, required: ['a', 'b'] } },
      { name: 'echo', alias: 'echo', inputSchema: { type: 'object', properties: { message: {}, loud: {} }, required: ['message'] } },
      { name: 'ping', alias: 'ping' },
    ] },
    'my-db': new RpcFailure('server_unavailable', 'MCP server "my-db" could not be started (stdio: spawn /nope ENOENT)'),
    slow: 'hang',
  });
  const index = await buildServerIndex(host, { signal: new AbortController().signal, perServerTimeoutMs: 50, limits: { timeoutSec: 30, maxTimeoutSec: 120 } });
  assert.deepEqual(index, {
    servers: [
      { name: 'everything', alias: 'everything', description: 'A test server. With many features.', state: 'available', tools: [
        { name: 'get_sum', required: ['a', 'b'], optional: 0 },
        { name: 'echo', required: ['message'], optional: 1 },
        { name: 'ping', required: [], optional: 0 },
      ] },
      { name: 'my-db', alias: 'my_db', state: 'unavailable', tools: [], reason: 'MCP server "my-db" could not be started (stdio: spawn /nope ENOENT)' },
      { name: 'slow', alias: 'slow', state: 'unavailable', tools: [], reason: 'did not list its tools within 50 ms' },
    ],
    problems: [{ path: '/home/me/.gemini/settings.json', message: 'not valid JSON' }],
    limits: { timeoutSec: 30, maxTimeoutSec: 120 },
  });
});

test('no servers: an empty index', async () => {
  assert.deepEqual(await buildServerIndex(new EmptyToolHost(), { signal: new AbortController().signal }), { servers: [], problems: [] });
});
