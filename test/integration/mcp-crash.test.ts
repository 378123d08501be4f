import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { RunResult } from '@mcp-code-mode/protocol';
import { CRASHY, stdio, writeServersConfig } from '../fixtures/mcp-servers/upstreams.ts';
import { availableEngines } from '../support/engines.ts';
import { startDaemonProcess, waitWarm, type DaemonHandle } from '../support/daemon-process.ts';

// On every runtime, bwrap included.
const engines = await availableEngines({ bwrap: true });
const TOKEN = 'crashy-token-8d2e71';

for (const engine of engines) {
  describe(`an MCP server that crashes mid-call, on ${engine.name}`, () => {
    let daemon: DaemonHandle;
    let dir: string;
    let starts: string;
    let config: string;
    const run = async (code: string, servers: string[]): Promise<RunResult> => (await daemon.client.run({ code, servers })).result;
    const startCount = (): number => readFileSync(starts, 'utf8').trim().split('\n').filter(Boolean).length;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'mcm-crash-'));
      starts = join(dir, 'starts.log');
      config = writeServersConfig(join(dir, 'servers.json'), {
        crashy: stdio(CRASHY, [], { CRASHY_STARTS: starts, SECRET_TOKEN: TOKEN }),
        broken: { command: join(dir, 'no-such-server'), args: [] },
      });
      daemon = await startDaemonProcess(engine, { MCP_SERVERS_CONFIG: config });
      await waitWarm(daemon.client, 1);
    });
    after(async () => {
      await daemon?.[Symbol.asyncDispose]();
      rmSync(dir, { recursive: true, force: true });
    });

    test('the run gets a clear error; the next run succeeds on a restarted server', async () => {
      const first = await run('print((await mcp_crashy.ping()).pid)\nawait mcp_crashy.crash(code=3)\nprint("never")', ['crashy']);
      assert.equal(first.status, 'error');
      assert.equal(first.error?.type, 'MCPError');
      assert.match(first.error?.message ?? '', /MCP server "crashy" exited during crashy\.crash; its last stderr: .*exiting with code 3 on purpose; it is restarted on next use/);
      const firstPid = first.stdout[0];
      const status = (await daemon.client.get('/v1/servers')) as { servers: { name: string; state: string; lastError?: string }[] };
      const crashy = status.servers.find((s) => s.name === 'crashy')!;
      assert.equal(crashy.state, 'failed');
      assert.match(crashy.lastError ?? '', /the server exited/);

      const second = await run('print((await mcp_crashy.ping()).pid)', ['crashy']);
      assert.equal(second.status, 'success', JSON.stringify(second));
      assert.notEqual(second.stdout[0], firstPid);
      assert.equal(startCount(), 2);
    });

    test('the server\'s secret env never shows in its logged stderr, errors or status', async () => {
      const r = await run('print(await mcp_crashy.secret_echo())', ['crashy']);
      assert.deepEqual(r.stdout, ['done']);
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.match(daemon.logs(), /crashy: token is \*\*\*/);
      assert.doesNotMatch(daemon.logs() + JSON.stringify(await daemon.client.get('/v1/servers')), new RegExp(TOKEN));
    });

    test('a server that cannot start fails the run with the reason, and the daemon carries on', async () => {
      const r = await run('print("unreachable")', ['broken']);
      assert.equal(r.status, 'validation_error');
      assert.match(r.error?.message ?? '', /MCP server "broken" could not be started \(stdio: spawn .*no-such-server ENOENT\)/);
      const unknown = await run('print(1)', ['nope']);
      assert.equal(unknown.status, 'validation_error');
      assert.match(unknown.error?.message ?? '', /unknown MCP server "nope"; configured servers: crashy, broken/);
      assert.equal((await run('print((await mcp_crashy.ping()).pong)', ['crashy'])).stdout[0], 'True');
    });

    test('POST /v1/reload takes a new server, and keeps the current ones when the file breaks', async () => {
      writeServersConfig(config, { crashy: stdio(CRASHY, [], { CRASHY_STARTS: starts, SECRET_TOKEN: TOKEN }), again: stdio(CRASHY) });
      const applied = (await daemon.client.post('/v1/reload')) as { applied: boolean; servers: string[] };
      assert.deepEqual([applied.applied, applied.servers], [true, ['crashy', 'again']]);
      const before = startCount();
      assert.equal((await run('print((await mcp_again.ping()).pong)', ['again'])).stdout[0], 'True');
      // crashy's entry did not change, so its connection was kept.
      await run('await mcp_crashy.ping()', ['crashy']);
      assert.equal(startCount(), before);

      writeFileSync(config, '{ "mcpServers": { "half": ');
      const refused = (await daemon.client.post('/v1/reload')) as { applied: boolean; message: string; problems: { path: string; message: string }[] };
      assert.equal(refused.applied, false);
      assert.match(refused.message, /kept the current servers/);
      assert.equal(refused.problems[0]?.path, config);
      assert.match(refused.problems[0]?.message ?? '', /not valid JSON/);
      assert.equal((await run('print((await mcp_again.ping()).pong)', ['again'])).stdout[0], 'True');
    });
  });
}
