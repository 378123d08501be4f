import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SessionListSchema } from '@mcp-code-mode/protocol';
import { availableEngines, leftoversOf, sandboxesOf } from '../support/engines.ts';
import { killSandbox } from '../support/hostile.ts';
import { startDaemonProcess, waitWarm, type DaemonHandle } from '../support/daemon-process.ts';
import { openSessionId, runClient as shimClient, type RunClient as ShimClient } from '../support/shim-client.ts';

// On every runtime, bwrap included.
const engines = await availableEngines({ bwrap: true });
const TTL_SEC = 2;
const MAX = 2;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

for (const engine of engines) {
  describe(`session limits on ${engine.name}`, () => {
    let daemon: DaemonHandle;
    let client: ShimClient;

    before(async () => {
      daemon = await startDaemonProcess(engine, { MCP_BRIDGE_SESSION_TTL: String(TTL_SEC), MCP_BRIDGE_MAX_SESSIONS: String(MAX), MCP_BRIDGE_POOL_SIZE: '1' });
      await waitWarm(daemon.client, 1);
      client = await shimClient(daemon);
    });
    after(async () => {
      await client?.close();
      await daemon?.[Symbol.asyncDispose]();
    });

    const containerOf = async (id: string): Promise<string> => {
      const list = SessionListSchema.parse(await daemon.client.get('/v1/sessions'));
      const found = list.sessions.find((s) => s.id === id);
      assert.ok(found, `session ${id} is not listed`);
      return found.container;
    };
    const engineHas = async (container: string): Promise<boolean> => (await sandboxesOf(engine, daemon)).some((c) => c.id.startsWith(container));

    test('a session past its TTL is gone from the engine, and its id is refused with the reason', async () => {
      const result = await client.run({ session: 'new', code: 'x = 1' });
      const id = openSessionId(result);
      assert.equal(result.session?.state === 'open' && result.session.idleTtlSec, TTL_SEC);
      const container = await containerOf(id);
      assert.equal(await engineHas(container), true);
      await sleep(TTL_SEC * 1000 + 1500);
      assert.equal(await engineHas(container), false, 'the expired session container is still in the engine');
      const late = await client.run({ session: id, code: 'print(x)' });
      assert.equal(late.status, 'validation_error');
      assert.match(late.error?.message ?? '', new RegExp(`^session: ${id} is unknown or has expired: it expired after ${TTL_SEC} s without a run \\(MCP_BRIDGE_SESSION_TTL\\)\\. Start a new one with session: "new"`));
    });

    test('runs keep a session alive past its TTL', async () => {
      const id = openSessionId(await client.run({ session: 'new', code: 'n = 0' }));
      for (let i = 0; i < 3; i++) {
        await sleep(TTL_SEC * 500);
        const r = await client.run({ session: id, code: 'n += 1\nprint(n)' });
        assert.deepEqual(r.stdout, [String(i + 1)], JSON.stringify(r));
      }
      await daemon.client.delete(`/v1/sessions/${id}`);
    });

    test('MCP_BRIDGE_MAX_SESSIONS + 1 gives a clear error; ending one makes room', async () => {
      const ids = [];
      for (let i = 0; i < MAX; i++) ids.push(openSessionId(await client.run({ session: 'new', code: `i = ${i}` })));
      const refused = await client.run({ session: 'new', code: 'print("never runs")' });
      assert.equal(refused.status, 'validation_error');
      assert.deepEqual(refused.stdout, []);
      assert.match(refused.error?.message ?? '', new RegExp(`^session: ${MAX} sessions are open, the most MCP_BRIDGE_MAX_SESSIONS \\(${MAX}\\) allows; end one`));
      const plain = await client.run({ code: 'print("runs without a session still work")' });
      assert.equal(plain.status, 'success');
      await daemon.client.delete(`/v1/sessions/${ids[0]}`);
      const again = await client.run({ session: 'new', code: 'print("room again")' });
      assert.equal(again.status, 'success', JSON.stringify(again));
      for (const id of [ids[1]!, openSessionId(again)]) await daemon.client.delete(`/v1/sessions/${id}`);
    });

    test('a container that dies while its session is idle ends the session', async () => {
      const id = openSessionId(await client.run({ session: 'new', code: 'x = 1' }));
      const container = await containerOf(id);
      await killSandbox(engine, container).catch(() => undefined);
      for (let i = 0; i < 50 && SessionListSchema.parse(await daemon.client.get('/v1/sessions')).sessions.some((s) => s.id === id); i++) await sleep(100);
      const late = await client.run({ session: id, code: 'print(x)' });
      assert.equal(late.status, 'validation_error');
      assert.match(late.error?.message ?? '', /unknown or has expired: its sandbox exited/);
    });

    test('daemon shutdown ends every session and removes its container', async () => {
      const ids = [openSessionId(await client.run({ session: 'new', code: 'a = 1' })), openSessionId(await client.run({ session: 'new', code: 'b = 1' }))];
      const containers = await Promise.all(ids.map(containerOf));
      assert.equal(await daemon.stop(), 0);
      for (const container of containers) assert.equal(await engineHas(container), false);
      assert.deepEqual(await leftoversOf(engine, daemon), []);
    });
  });
}
