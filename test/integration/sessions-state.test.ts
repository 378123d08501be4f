import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SessionListSchema } from '@mcp-code-mode/protocol';
import { availableEngines, sandboxesOf } from '../support/engines.ts';
import { CLI, startDaemonProcess, waitWarm, type DaemonHandle } from '../support/daemon-process.ts';
import { EVERYTHING, MEMORY, stdio, writeServersConfig } from '../fixtures/mcp-servers/upstreams.ts';
import { openSessionId, runClient as shimClient, type RunClient as ShimClient } from '../support/shim-client.ts';

// On every runtime, bwrap included.
const engines = await availableEngines({ bwrap: true });

for (const engine of engines) {
  describe(`sessions on ${engine.name}`, () => {
    let daemon: DaemonHandle;
    let client: ShimClient;

    before(async () => {
      const config = writeServersConfig(join(mkdtempSync(join(tmpdir(), 'mcm-servers-')), 'servers.json'), { everything: stdio(EVERYTHING), memory: stdio(MEMORY) });
      daemon = await startDaemonProcess(engine, { MCP_SERVERS_CONFIG: config });
      await waitWarm(daemon.client, 2);
      client = await shimClient(daemon);
    });
    after(async () => {
      await client?.close();
      await daemon?.[Symbol.asyncDispose]();
    });

    test('a session keeps x = 41 and a later run prints x + 1; a run without session sees none of it', async () => {
      // A relative path: the code runs in /workspace.
      const first = await client.run({ code: 'x = 41\nopen("note.txt", "w").write("kept")', session: 'new' });
      assert.equal(first.status, 'success', JSON.stringify(first));
      const id = openSessionId(first);
      assert.match(id, /^ses_[A-Za-z0-9_-]{24}$/);
      assert.ok(first.session?.state === 'open' && Date.parse(first.session.expiresAt) > Date.now() + 60_000);
      assert.match(first.text, new RegExp(id), 'the model reads the id in the text content');

      const second = await client.run({ code: 'print(x + 1)\nprint(open("/workspace/note.txt").read())', session: id });
      assert.equal(second.status, 'success', JSON.stringify(second));
      assert.deepEqual(second.stdout, ['42', 'kept']);
      assert.equal(openSessionId(second), id);

      const fresh = await client.run({ code: 'import os\nprint("x" in globals(), os.path.exists("/workspace/note.txt"))' });
      assert.deepEqual([fresh.status, fresh.stdout, fresh.session], ['success', ['False False'], undefined]);
      await daemon.client.delete(`/v1/sessions/${id}`);
    });

    test('a data exploration over three runs: write a CSV, filter, aggregate (no pandas)', async () => {
      const load = await client.run({
        session: 'new',
        code: `
import csv, random
random.seed(7)
cities = ["Lyon", "Oslo", "Lima", "Pune"]
with open("/workspace/sales.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["city", "month", "amount"])
    for i in range(1000):
        w.writerow([cities[i % 4], 1 + i % 12, round(random.uniform(1, 100), 2)])
rows = list(csv.DictReader(open("/workspace/sales.csv")))
print(len(rows), "rows")`,
      });
      assert.deepEqual([load.status, load.stdout], ['success', ['1000 rows']], JSON.stringify(load));
      const id = openSessionId(load);
      const filter = await client.run({ session: id, code: 'big = [r for r in rows if float(r["amount"]) > 50]\nprint(len(big) > 0, all(float(r["amount"]) > 50 for r in big))' });
      assert.deepEqual([filter.status, filter.stdout], ['success', ['True True']], JSON.stringify(filter));
      const aggregate = await client.run({
        session: id,
        code: `
from collections import defaultdict
totals = defaultdict(float)
for r in big:
    totals[r["city"]] += float(r["amount"])
check = sum(float(r["amount"]) for r in csv.DictReader(open("/workspace/sales.csv")) if float(r["amount"]) > 50)
print(sorted(totals), round(sum(totals.values()), 2) == round(check, 2))`,
      });
      assert.deepEqual([aggregate.status, aggregate.stdout], ['success', ["['Lima', 'Lyon', 'Oslo', 'Pune'] True"]], JSON.stringify(aggregate));
      await daemon.client.delete(`/v1/sessions/${id}`);
    });

    test('two sessions run in parallel and do not see each other; a third client without the id reaches neither', async () => {
      const [a, b] = await Promise.all(['A', 'B'].map((who) => client.run({ session: 'new', code: `secret = "${who}"\nopen("/workspace/who", "w").write("${who}")` })));
      const ids = [openSessionId(a!), openSessionId(b!)];
      assert.notEqual(ids[0], ids[1]);
      // Both runs sleep 1.5 s at once; their wall-clock windows overlap only if they ran in parallel.
      const code = 'import time\nt0 = time.time()\ntime.sleep(1.5)\nprint(secret, open("/workspace/who").read(), t0, time.time())';
      const both = await Promise.all(ids.map((session) => client.run({ session, code })));
      const [ra, rb] = both.map((r) => r.stdout[0]!.split(' '));
      assert.deepEqual([ra![0], ra![1], rb![0], rb![1]], ['A', 'A', 'B', 'B']);
      assert.ok(Number(ra![2]) < Number(rb![3]) && Number(rb![2]) < Number(ra![3]), `runs did not overlap: ${JSON.stringify(both.map((r) => r.stdout))}`);

      const third = await shimClient(daemon, 'third-client');
      try {
        const plain = await third.run({ code: 'print("secret" in globals())' });
        assert.deepEqual(plain.stdout, ['False']);
        const guessed = `ses_${randomBytes(18).toString('base64url')}`;
        const refused = await third.run({ code: 'print(secret)', session: guessed });
        assert.equal(refused.status, 'validation_error');
        assert.match(refused.error?.message ?? '', /unknown or has expired/);
        assert.match(refused.error?.message ?? '', /session: "new"/);
        // Inside the sandbox there is nothing that lists sessions.
        const probe = await third.run({ code: 'from mcp import runtime\nprint([n for n in dir(runtime) if "session" in n.lower()])' });
        assert.deepEqual(probe.stdout, ['[]']);
      } finally {
        await third.close();
      }
      // The status (also served by the unauthenticated health endpoint) never carries a full id.
      const status = JSON.stringify(await daemon.client.get('/v1/status'));
      for (const id of ids) assert.ok(!status.includes(id), 'a full session id leaked into /status');
      assert.match(status, /"open":2/);
      for (const id of ids) await daemon.client.delete(`/v1/sessions/${id}`);
    });

    test('the servers allowlist is fixed at start: narrower is fine, wider is a validation_error', async () => {
      const start = await client.run({ session: 'new', servers: ['everything'], code: 'r = await mcp_everything.echo(message="hi")\nprint(r)' });
      assert.equal(start.status, 'success', JSON.stringify(start));
      const id = openSessionId(start);
      const same = await client.run({ session: id, code: 'print(LOADED_MCP_SERVERS)' });
      assert.deepEqual(same.stdout, ["('everything',)"], 'no servers given: the session keeps its own');
      const wider = await client.run({ session: id, servers: ['everything', 'memory'], code: 'print(1)' });
      assert.equal(wider.status, 'validation_error');
      assert.match(wider.error?.message ?? '', /^servers: this session was started with servers \[everything\] and a run in it cannot add memory/);
      const forged = await client.run({ session: id, code: 'from mcp import runtime\ntry:\n    await runtime.call_tool("memory", "read_graph", {})\nexcept runtime.MCPError as e:\n    print(e.code)' });
      assert.deepEqual(forged.stdout, ['server_not_allowed'], JSON.stringify(forged));
      const list = SessionListSchema.parse(await daemon.client.get('/v1/sessions'));
      assert.deepEqual(list.sessions.find((s) => s.id === id)?.servers, ['everything']);
      await daemon.client.delete(`/v1/sessions/${id}`);
    });

    test('a run that times out ends its session with a clear status; the container is removed', async () => {
      const start = await client.run({ session: 'new', code: 'x = 1' });
      const id = openSessionId(start);
      const { container } = SessionListSchema.parse(await daemon.client.get('/v1/sessions')).sessions.find((s) => s.id === id)!;
      const timedOut = await client.run({ session: id, timeout: 1, code: 'while True: pass' });
      assert.equal(timedOut.status, 'timeout');
      assert.equal(timedOut.session?.state, 'ended');
      assert.match(timedOut.error?.message ?? '', /The session has ended .*Start a new one with session: "new"/);
      const after = await client.run({ session: id, code: 'print(x)' });
      assert.equal(after.status, 'validation_error');
      assert.match(after.error?.message ?? '', /unknown or has expired: a run in it went past its 1 s timeout/);
      const left = await sandboxesOf(engine, daemon);
      assert.ok(!left.some((c) => c.id.startsWith(container)), 'the session container is still there');
    });

    test('a session whose interpreter dies is ended and says so', async () => {
      const id = openSessionId(await client.run({ session: 'new', code: 'x = 1' }));
      const died = await client.run({ session: id, code: 'import os\nos._exit(3)' });
      assert.equal(died.status, 'error');
      assert.equal(died.session?.state, 'ended');
      const after = await client.run({ session: id, code: 'print(x)' });
      assert.match(after.error?.message ?? '', /unknown or has expired: its sandbox exited/);
    });

    test('the CLI: run --session new|ID, sessions list, sessions end ID', () => {
      const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { env: daemon.env, encoding: 'utf8' });
      const started = cli('run', '--session', 'new', '--json', '-c', 'y = 6');
      assert.equal(started.status, 0, started.stderr);
      const id = JSON.parse(started.stdout).session.id as string;
      const next = cli('run', '--session', id, '--json', '-c', 'print(y * 7)');
      assert.deepEqual(JSON.parse(next.stdout).stdout, ['42']);
      assert.match(cli('sessions', 'list').stdout, new RegExp(`${id}  2 run\\(s\\)`));
      assert.match(cli('status').stdout, /sessions 1 open/);
      const ended = cli('sessions', 'end', id);
      assert.equal(ended.status, 0, ended.stderr);
      const again = cli('sessions', 'end', id);
      assert.equal(again.status, 1);
      assert.match(again.stderr, /has already ended: it was ended on request/);
      const refused = cli('run', '--session', id, '-c', 'print(y)');
      assert.equal(refused.status, 2);
      assert.match(refused.stdout, /unknown or has expired/);
    });
  });
}
