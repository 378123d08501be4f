// Approvals end to end: the SDK Client over stdio against the shim, a real daemon and sandbox, and
// server-filesystem (its read tools say readOnlyHint: true, write_file does not).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ElicitRequestSchema, type ElicitRequest, type ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import type { AuditRecord } from '@mcp-code-mode/protocol';
import { FILESYSTEM, MEMORY, stdio, writeServersConfig } from '../fixtures/mcp-servers/upstreams.ts';
import { availableEngines } from '../support/engines.ts';
import { startDaemonProcess, waitWarm, type DaemonHandle } from '../support/daemon-process.ts';
import { callRun, connectShim, type ShimClient } from '../support/shim-client.ts';

const [engine] = await availableEngines();
const SECRET = 'sekrit-token-value-4242';

/** A shim whose client can (or cannot) be asked; `respond` answers each elicitation. */
async function shimFor(daemon: DaemonHandle, elicit: boolean) {
  const env = Object.fromEntries(Object.entries({ ...daemon.env, MCP_BRIDGE_AUTOSTART: '0' }).filter((e): e is [string, string] => e[1] !== undefined));
  const shim = await connectShim(env, undefined, elicit ? { capabilities: { elicitation: {} } } : {});
  const asked: ElicitRequest['params'][] = [];
  const withdrawn: string[] = [];
  let respond: (params: ElicitRequest['params'], signal: AbortSignal) => Promise<ElicitResult> = async () => ({ action: 'decline' });
  if (elicit) {
    shim.client.setRequestHandler(ElicitRequestSchema, async (request, extra) => {
      asked.push(request.params);
      extra.signal.addEventListener('abort', () => withdrawn.push(request.params.message));
      return respond(request.params, extra.signal);
    });
  }
  return {
    shim,
    asked,
    withdrawn,
    answer: (fn: typeof respond) => (respond = fn),
    run: (code: string, options: { signal?: AbortSignal; timeout?: number } = {}) =>
      callRun(shim.client, { code, servers: ['filesystem', 'memory'], ...(options.timeout ? { timeout: options.timeout } : {}) }, { timeout: 120_000, ...(options.signal ? { signal: options.signal } : {}) }),
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

describe(`approvals through elicitation on ${engine!.name}`, () => {
  let daemon: DaemonHandle;
  let dir: string;
  let files: string;
  let asker: Awaited<ReturnType<typeof shimFor>>;
  let mute: Awaited<ReturnType<typeof shimFor>>;

  before(async () => {
    dir = realpathSync(mkdtempSync(join(tmpdir(), 'mcm-appr-')));
    files = join(dir, 'files');
    mkdirSync(files);
    writeFileSync(join(files, 'notes.txt'), 'a note\n');
    const config = writeServersConfig(join(dir, 'servers.json'), {
      filesystem: stdio(FILESYSTEM, [files]),
      // A secret in a server's env must never reach the audit log.
      memory: stdio(MEMORY, [], { MEMORY_FILE_PATH: join(dir, 'memory.jsonl'), API_TOKEN: SECRET }),
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
    assert.ok(!existsSync(join(files, 'unanswered.txt')));
  });

  test('cancelling the run while it waits ends it and withdraws the question', async () => {
    asker.asked.length = 0;
    asker.withdrawn.length = 0;
    asker.answer((_params, signal) => new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('withdrawn')))));
    const cancel = new AbortController();
    const running = asker.run(writeCode(join(files, 'cancelled.txt')), { signal: cancel.signal });
    const deadline = Date.now() + 30_000;
    while (asker.asked.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    cancel.abort();
    await assert.rejects(running);
    while (asker.withdrawn.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(asker.withdrawn.length, 1);
    assert.ok(!existsSync(join(files, 'cancelled.txt')));
  });

  test('the audit log holds the runs and their calls with decisions, and no secret', async () => {
    const r = await asker.run(`api_key = "${SECRET}"\nprint(len(await mcp_memory.read_graph()))`);
    assert.equal(r.result.status, 'success', JSON.stringify(r.result));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const text = readFileSync(join(daemon.stateDir, 'audit.jsonl'), 'utf8');
    assert.ok(!text.includes(SECRET), 'a secret reached the audit log');
    const records = text.trim().split('\n').map((l) => JSON.parse(l) as AuditRecord);
    assert.ok(records.length >= 7, `${records.length} records`);
    assert.ok(records.every((x) => x.client === 'mcp-code-mode-tests' && x.codeSha256.length === 64));
    const calls = records.flatMap((x) => x.calls);
    const of = (name: string) => calls.filter((c) => c.arguments.includes(name));
    assert.deepEqual(of('declined.txt').map((c) => [c.tool, c.outcome, c.decision, c.by]), [['write_file', 'denied', 'deny', 'user']]);
    assert.deepEqual(of('accepted.txt').map((c) => [c.outcome, c.decision, c.by]), [['ok', 'allow_once', 'user']]);
    assert.deepEqual(of('run-2.txt').map((c) => c.decision), ['allowed_for_run']);
    assert.deepEqual(of('mute.txt').map((c) => [c.decision, c.by]), [['refused', 'policy']]);
    assert.deepEqual(of('unanswered.txt').map((c) => c.by), ['timeout']);
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
