// Approvals end to end: the SDK Client over stdio against the shim, a real daemon and sandbox, and
// server-filesystem (its read tools say readOnlyHint: true, write_file does not); server-everything
// over Streamable HTTP carries a secret header for the audit test.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ElicitRequestSchema, type ElicitRequest, type ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import type { AuditRecord, PoolStatus } from '@mcp-code-mode/protocol';
import { FILESYSTEM, MEMORY, startEverythingHttp, stdio, writeServersConfig, type HttpServer } from '../fixtures/mcp-servers/upstreams.ts';
import { availableEngines, sandboxesOf } from '../support/engines.ts';
import { containerRunning } from '../support/hostile.ts';
import { startDaemonProcess, waitWarm, type DaemonHandle } from '../support/daemon-process.ts';
import { eventually } from '../support/poll.ts';
import { callRun, connectShim, type ShimClient } from '../support/shim-client.ts';

const [engine] = await availableEngines();
const SECRET = 'sekrit-token-value-4242';
/** Sent as `Authorization: Bearer …` to the HTTP server; the daemon's alone. */
const HEADER_SECRET = 'hdr-bearer-secret-7d3e91';
/** A secret as Python source that never spells it whole (the audit log keeps a copy of the code). */
const pySplit = (secret: string): string => `"${secret.slice(0, 6)}" + "${secret.slice(6)}"`;

/** A shim whose client can (or cannot) be asked; `respond` answers each elicitation. */
async function shimFor(daemon: DaemonHandle, elicit: boolean) {
  const env = Object.fromEntries(Object.entries({ ...daemon.env, MCP_BRIDGE_AUTOSTART: '0' }).filter((e): e is [string, string] => e[1] !== undefined));
  const shim = await connectShim(env, undefined, elicit ? { capabilities: { elicitation: {} } } : {});
  const asked: ElicitRequest['params'][] = [];
  // The abort reason of each withdrawn question: a notifications/cancelled carries one (a string);
  // a closed connection aborts with none.
  const withdrawn: { message: string; reason: unknown }[] = [];
  let respond: (params: ElicitRequest['params'], signal: AbortSignal) => Promise<ElicitResult> = async () => ({ action: 'decline' });
  if (elicit) {
    shim.client.setRequestHandler(ElicitRequestSchema, async (request, extra) => {
      asked.push(request.params);
      extra.signal.addEventListener('abort', () => withdrawn.push({ message: request.params.message, reason: extra.signal.reason }));
      return respond(request.params, extra.signal);
    });
  }
  return {
    shim,
    asked,
    withdrawn,
    answer: (fn: typeof respond) => (respond = fn),
    run: (code: string, options: { signal?: AbortSignal; timeout?: number; servers?: string[] } = {}) =>
      callRun(
        shim.client,
        { code, servers: options.servers ?? ['filesystem', 'memory'], ...(options.timeout ? { timeout: options.timeout } : {}) },
        { timeout: 120_000, ...(options.signal ? { signal: options.signal } : {}) },
      ),
  };
}

const accept = (decision: string) => async (): Promise<ElicitResult> => ({ action: 'accept', content: { decision } });

function writeCode(path: string, content = 'hello'): string {
  return `
from mcp import runtime
try:
    await mcp_filesystem.write_file(path=${JSON.stringify(path)}, content=${JSON.stringify(content)})
    print("written")
except runtime.ApprovalDenied as e:
    print("denied", e.code, isinstance(e, runtime.MCPError))`;
}

/**
 * Sandbox code that writes a call_tool frame for write_file onto the agent's protocol channel
 * itself, past runtime.call_tool and the RPC client, and prints the daemon's answer to it.
 */
function forgedWriteCode(path: string): string {
  return `
import asyncio, gc, json, os, threading
ch = next(o for o in gc.get_objects() if type(o).__name__ == 'Channel')
rpc = next(o for o in gc.get_objects() if type(o).__name__ == 'RpcClient')
answered = threading.Event()
answer = []
def settle(outcome):
    answer.append(outcome)
    answered.set()
# Registered only to read the answer: the frame itself is written raw, as no helper writes it.
with rpc._lock:
    rpc._pending["forged-write"] = settle
frame = {"v": 1, "type": "rpc", "id": "forged-write", "method": "call_tool",
         "params": {"server": "filesystem", "tool": "write_file", "arguments": {"path": ${JSON.stringify(path)}, "content": "forged"}}}
with ch._lock:
    os.write(ch._out_fd, b"\\x1e" + json.dumps(frame).encode() + b"\\n")
await asyncio.get_running_loop().run_in_executor(None, answered.wait, 60)
ok, value = answer[0] if answer else (None, "no answer")
print("forged", ok, getattr(value, "code", None), value)`;
}

describe(`approvals through elicitation on ${engine!.name}`, () => {
  let daemon: DaemonHandle;
  let http: HttpServer;
  let dir: string;
  let files: string;
  let asker: Awaited<ReturnType<typeof shimFor>>;
  let mute: Awaited<ReturnType<typeof shimFor>>;

  before(async () => {
    dir = realpathSync(mkdtempSync(join(tmpdir(), 'mcm-appr-')));
    files = join(dir, 'files');
    mkdirSync(files);
    writeFileSync(join(files, 'notes.txt'), 'a note\n');
    http = await startEverythingHttp();
    const config = writeServersConfig(join(dir, 'servers.json'), {
      filesystem: stdio(FILESYSTEM, [files]),
      // A secret in a server's env, or in its HTTP headers, must never reach the audit log, the
      // daemon's log or the sandbox.
      memory: stdio(MEMORY, [], { MEMORY_FILE_PATH: join(dir, 'memory.jsonl'), API_TOKEN: SECRET }),
      'everything-http': { type: 'http', url: http.url, headers: { Authorization: `Bearer ${HEADER_SECRET}` } },
    });
    daemon = await startDaemonProcess(engine!, { MCP_SERVERS_CONFIG: config, MCP_BRIDGE_APPROVAL: 'writes', MCP_BRIDGE_APPROVAL_TIMEOUT: '4', MCP_BRIDGE_POOL_SIZE: '1' });
    await waitWarm(daemon.client, 1);
    asker = await shimFor(daemon, true);
    mute = await shimFor(daemon, false);
  });
  after(async () => {
    await asker?.shim[Symbol.asyncDispose]();
    await mute?.shim[Symbol.asyncDispose]();
    await daemon?.[Symbol.asyncDispose]();
    await http?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('write_file asks once naming the tool; declined, nothing is written and the code sees ApprovalDenied', async () => {
    asker.asked.length = 0;
    asker.answer(async () => ({ action: 'decline' }));
    const r = await asker.run(writeCode(join(files, 'declined.txt')));
    assert.deepEqual(r.result.stdout, ['denied approval_denied True'], JSON.stringify(r.result));
    assert.equal(asker.asked.length, 1);
    assert.match(asker.asked[0]!.message, /filesystem\.write_file/);
    assert.match(asker.asked[0]!.message, /declined\.txt/);
    assert.ok(!existsSync(join(files, 'declined.txt')));
  });

  test('accepted, it is written; read_text_file asks nothing', async () => {
    asker.asked.length = 0;
    asker.answer(accept('allow_once'));
    const r = await asker.run(`${writeCode(join(files, 'accepted.txt'), 'yes')}
print((await mcp_filesystem.read_text_file(path=${JSON.stringify(join(files, 'notes.txt'))})).content.strip())`);
    assert.deepEqual(r.result.stdout, ['written', 'a note'], JSON.stringify(r.result));
    assert.equal(readFileSync(join(files, 'accepted.txt'), 'utf8'), 'yes');
    assert.equal(asker.asked.length, 1);
  });

  test('"allow this tool for the rest of this run" covers that run only', async () => {
    asker.asked.length = 0;
    asker.answer(accept('allow_tool'));
    const code = [1, 2, 3].map((i) => writeCode(join(files, `run-${i}.txt`))).join('\n');
    const r = await asker.run(code);
    assert.deepEqual(r.result.stdout, ['written', 'written', 'written'], JSON.stringify(r.result));
    assert.equal(asker.asked.length, 1);
    asker.answer(async () => ({ action: 'cancel' }));
    const next = await asker.run(writeCode(join(files, 'next-run.txt')));
    assert.deepEqual(next.result.stdout, ['denied approval_denied True']);
    assert.equal(asker.asked.length, 2);
  });

  test('call_batch of 10 writes asks once and writes 10, results in order', async () => {
    asker.asked.length = 0;
    asker.answer(accept('allow_once'));
    const r = await asker.run(`
from mcp import runtime
results = await runtime.call_batch("filesystem", "write_file", [{"path": f"${files}/batch-{i}.txt", "content": str(i)} for i in range(10)])
print(len(results), all(not isinstance(x, Exception) for x in results))`);
    assert.deepEqual(r.result.stdout, ['10 True'], JSON.stringify(r.result));
    assert.equal(asker.asked.length, 1);
    assert.match(asker.asked[0]!.message, /10 times/);
    for (let i = 0; i < 10; i++) assert.equal(readFileSync(join(files, `batch-${i}.txt`), 'utf8'), String(i));
  });

  test('a client without elicitation is refused under writes, with the variable named; reads still run', async () => {
    const r = await mute.run(`
from mcp import runtime
try:
    await mcp_filesystem.write_file(path=${JSON.stringify(join(files, 'mute.txt'))}, content="x")
except runtime.ApprovalDenied as e:
    print(e)
print((await mcp_filesystem.read_text_file(path=${JSON.stringify(join(files, 'notes.txt'))})).content.strip())`);
    assert.match(r.result.stdout[0]!, /cannot be asked.*MCP_BRIDGE_APPROVAL=auto/, JSON.stringify(r.result));
    assert.equal(r.result.stdout[1], 'a note');
    assert.ok(!existsSync(join(files, 'mute.txt')));
  });

  test('the wait does not time the run out; unanswered past MCP_BRIDGE_APPROVAL_TIMEOUT it is a denial, withdrawn from the client', async () => {
    asker.asked.length = 0;
    asker.withdrawn.length = 0;
    // Never answers: the daemon's 4 s decide, past the run's own 2 s timeout.
    asker.answer((_params, signal) => new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('withdrawn')))));
    const r = await asker.run(writeCode(join(files, 'unanswered.txt')), { timeout: 2 });
    assert.equal(r.result.status, 'success', JSON.stringify(r.result));
    assert.deepEqual(r.result.stdout, ['denied approval_denied True']);
    assert.equal(asker.withdrawn.length, 1);
    // Withdrawn by the shim's notifications/cancelled, on the daemon's word that the question closed.
    assert.match(String(asker.withdrawn[0]!.reason), /the daemon closed the question \(timeout\)/);
    assert.ok(!existsSync(join(files, 'unanswered.txt')));
  });

  test('cancelling the run while it waits ends it, removes its sandbox and withdraws the question', async () => {
    asker.asked.length = 0;
    asker.withdrawn.length = 0;
    asker.answer((_params, signal) => new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('withdrawn')))));
    const cancel = new AbortController();
    // A marked process, so that the sandbox running this code can be found from the host.
    const running = asker.run(`import subprocess\nsubprocess.Popen(["sleep", "783"])\n${writeCode(join(files, 'cancelled.txt'))}`, { signal: cancel.signal });
    await eventually(() => asker.asked.length === 1, 'the write is asked');
    const sandbox = await containerRunning(engine!, daemon, ['sleep', '783']);
    cancel.abort('the user stopped the run');
    await assert.rejects(running, /the user stopped the run/);
    await eventually(() => asker.withdrawn.length === 1, "the client's elicitation request is withdrawn");
    // The client's request was aborted by a notifications/cancelled carrying the run's own
    // cancellation (a timeout would say so, a closed connection gives no reason at all).
    assert.equal(asker.withdrawn[0]!.reason, 'the user stopped the run');
    await eventually(async () => !(await sandboxesOf(engine!, daemon)).some((c) => c.id === sandbox), "the cancelled run's sandbox is gone from the engine");
    // The pool holds no busy or removing sandbox and has warm ones again (none of them the removed
    // one), and the next run gets one.
    await eventually(async () => {
      const { pool } = (await daemon.client.get('/v1/status')) as { pool: PoolStatus };
      return pool.busy === 0 && pool.removing === 0 && pool.warm >= 1;
    }, 'the pool has no busy sandbox and a warm one');
    const held = (await sandboxesOf(engine!, daemon)).map((c) => c.id);
    assert.ok(held.length >= 1 && !held.includes(sandbox), JSON.stringify(held));
    const next = await asker.run('print("after")');
    assert.deepEqual(next.result.stdout, ['after'], JSON.stringify(next.result));
    assert.ok(!existsSync(join(files, 'cancelled.txt')));
  });

  test('a forged write frame (past runtime.call_tool) from a client that cannot be asked is refused under writes', async () => {
    const r = await mute.run(forgedWriteCode(join(files, 'forged-refused.txt')));
    assert.match(r.result.stdout[0] ?? '', /^forged False approval_denied .*cannot be asked.*MCP_BRIDGE_APPROVAL=auto/, JSON.stringify(r.result));
    assert.ok(!existsSync(join(files, 'forged-refused.txt')));
  });

  test('a forged write frame is asked like any call: one question, declined, nothing written', async () => {
    asker.asked.length = 0;
    asker.answer(async () => ({ action: 'decline' }));
    const r = await asker.run(forgedWriteCode(join(files, 'forged-asked.txt')));
    assert.match(r.result.stdout[0] ?? '', /^forged False approval_denied /, JSON.stringify(r.result));
    assert.equal(asker.asked.length, 1);
    assert.match(asker.asked[0]!.message, /filesystem\.write_file/);
    assert.match(asker.asked[0]!.message, /forged-asked\.txt/);
    assert.ok(!existsSync(join(files, 'forged-asked.txt')));
  });

  test('the audit log holds the runs and their calls with decisions; no secret of an env or a header reaches it, the log or the sandbox', async () => {
    const r = await asker.run(
      `api_key = "${SECRET}"
import glob, os
from mcp import runtime
print(len(await mcp_memory.read_graph()))
print(await mcp_everything_http.echo(message="through http"))
texts = list(os.environ.values()) + [repr(mcp_memory), repr(mcp_everything_http), repr(mcp_servers),
         repr(runtime.list_loaded_server_metadata()), repr(await runtime.list_servers()),
         repr(runtime.describe_server("everything-http")), runtime.capability_summary()]
for path in glob.glob("/proc/*/environ") + glob.glob("/proc/*/cmdline"):
    try:
        texts.append(open(path, "rb").read().decode("utf-8", "replace"))
    except OSError:
        pass
print("seen", sum(n in t for n in [${pySplit(HEADER_SECRET)}, ${pySplit(SECRET)}] for t in texts), "of", len(texts))`,
      { servers: ['filesystem', 'memory', 'everything-http'] },
    );
    assert.equal(r.result.status, 'success', JSON.stringify(r.result));
    assert.equal(r.result.stdout[1], 'Echo: through http', JSON.stringify(r.result));
    // Neither secret in anything the sandbox can read (and it read something: the env, /proc).
    assert.match(r.result.stdout[2] ?? '', /^seen 0 of (\d{2,})$/, JSON.stringify(r.result));
    await eventually(() => readFileSync(join(daemon.stateDir, 'audit.jsonl'), 'utf8').includes('through http'), 'the run is in the audit log');
    const text = readFileSync(join(daemon.stateDir, 'audit.jsonl'), 'utf8');
    for (const secret of [SECRET, HEADER_SECRET]) {
      assert.ok(!text.includes(secret), `a secret reached the audit log: ${secret}`);
      assert.ok(!daemon.logs().includes(secret), `a secret reached the daemon's log: ${secret}`);
      assert.ok(!asker.shim.stderr().includes(secret), `a secret reached the shim's log: ${secret}`);
    }
    const records = text.trim().split('\n').map((l) => JSON.parse(l) as AuditRecord);
    assert.ok(records.length >= 10, `${records.length} records`);
    assert.ok(records.every((x) => x.client === 'mcp-code-mode-tests' && x.codeSha256.length === 64));
    const calls = records.flatMap((x) => x.calls);
    const of = (name: string) => calls.filter((c) => c.arguments.includes(name));
    assert.deepEqual(of('declined.txt').map((c) => [c.tool, c.outcome, c.decision, c.by]), [['write_file', 'denied', 'deny', 'user']]);
    assert.deepEqual(of('accepted.txt').map((c) => [c.outcome, c.decision, c.by]), [['ok', 'allow_once', 'user']]);
    assert.deepEqual(of('run-2.txt').map((c) => c.decision), ['allowed_for_run']);
    assert.deepEqual(of('mute.txt').map((c) => [c.decision, c.by]), [['refused', 'policy']]);
    assert.deepEqual(of('unanswered.txt').map((c) => c.by), ['timeout']);
    assert.deepEqual(of('cancelled.txt').map((c) => [c.decision, c.by]), [['deny', 'run_ended']]);
    assert.deepEqual(of('forged-refused.txt').map((c) => [c.outcome, c.decision, c.by]), [['denied', 'refused', 'policy']]);
    assert.deepEqual(of('forged-asked.txt').map((c) => [c.outcome, c.decision, c.by]), [['denied', 'deny', 'user']]);
    assert.deepEqual(of('through http').map((c) => [c.server, c.tool, c.outcome, c.decision]), [['everything-http', 'echo', 'ok', 'not_asked']]);
    assert.equal(calls.filter((c) => c.batch === 10).length, 10);
    assert.ok(calls.some((c) => c.tool === 'read_text_file' && c.decision === 'not_asked'));
  });
});

describe(`MCP_BRIDGE_APPROVAL=auto with a client that cannot be asked on ${engine!.name}`, () => {
  test('the write runs as before', async () => {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), 'mcm-auto-')));
    const config = writeServersConfig(join(dir, 'servers.json'), { filesystem: stdio(FILESYSTEM, [dir]), memory: stdio(MEMORY, [], { MEMORY_FILE_PATH: join(dir, 'm.jsonl') }) });
    await using daemon = await startDaemonProcess(engine!, { MCP_SERVERS_CONFIG: config, MCP_BRIDGE_POOL_SIZE: '1' });
    const mute = await shimFor(daemon, false);
    try {
      const r = await mute.run(writeCode(join(dir, 'auto.txt'), 'auto'));
      assert.deepEqual(r.result.stdout, ['written'], JSON.stringify(r.result));
      assert.equal(readFileSync(join(dir, 'auto.txt'), 'utf8'), 'auto');
    } finally {
      await mute.shim[Symbol.asyncDispose]();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
