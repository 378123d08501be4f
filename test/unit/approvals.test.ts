// Approvals without an engine: the pure policy, the per-run approver with a fake clock, and the
// real RunService/RunLoop on the scripted runtime, where forged frames meet the same decision.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { test } from 'node:test';
import type { ApprovalClosedEvent, ApprovalEvent, AuditRecord, ServerInfo } from '@mcp-code-mode/protocol';
import pino from 'pino';
import { ApprovalBroker, RunApprovals } from '../../daemon/src/approvals/approver.ts';
import { AuditLog } from '../../daemon/src/approvals/audit-log.ts';
import { decide, parseApprovalsFile } from '../../daemon/src/approvals/policy.ts';
import { previewArguments } from '../../daemon/src/approvals/preview.ts';
import { ApprovalSettings } from '../../daemon/src/approvals/settings.ts';
import { SandboxPool } from '../../daemon/src/pool/sandbox-pool.ts';
import { RpcFailure, type RpcContext } from '../../daemon/src/rpc/rpc-failure.ts';
import { RpcRouter } from '../../daemon/src/rpc/rpc-router.ts';
import { EmptyToolHost } from '../../daemon/src/rpc/tool-host.ts';
import { RunService } from '../../daemon/src/runs/run-service.ts';
import { FakeRuntime, type AgentScript } from '../support/fake-runtime.ts';

const log = pino({ level: 'silent' });
const w = { server: 's', tool: 'write', readOnly: false };
const r = { server: 's', tool: 'read', readOnly: true };

test('policy: the modes, with and without a client that can be asked', () => {
  assert.equal(decide('auto', { ...w, canElicit: true }).action, 'ask');
  assert.equal(decide('auto', { ...w, canElicit: false }).action, 'run');
  assert.equal(decide('auto', { ...r, canElicit: true }).action, 'run');
  assert.equal(decide('writes', { ...w, canElicit: true }).action, 'ask');
  const refused = decide('writes', { ...w, canElicit: false });
  assert.equal(refused.action, 'refuse');
  assert.match(refused.action === 'refuse' ? refused.message : '', /MCP_BRIDGE_APPROVAL=auto/);
  assert.equal(decide('writes', { ...r, canElicit: false }).action, 'run');
  assert.equal(decide('all', { ...r, canElicit: true }).action, 'ask');
  assert.equal(decide('all', { ...r, canElicit: false }).action, 'refuse');
  assert.equal(decide('off', { ...w, canElicit: true }).action, 'run');
});

test('policy: a tool rule beats its server rule, which beats the mode; rules hold under auto', () => {
  const rules = parseApprovalsFile(JSON.stringify({ servers: { s: { rule: 'allow', tools: { write: 'refuse', read: 'ask' } }, t: 'ask' } }), 'approvals.json');
  assert.equal(decide('all', { server: 's', tool: 'other', readOnly: false, canElicit: true }, rules).action, 'run');
  const refused = decide('off', { ...w, canElicit: true }, rules);
  assert.equal(refused.action, 'refuse');
  assert.match(refused.action === 'refuse' ? refused.message : '', /servers\.s\.tools\.write/);
  assert.equal(decide('off', { ...r, canElicit: true }, rules).action, 'ask');
  // An explicit rule is not dropped because the client cannot be asked.
  assert.equal(decide('auto', { server: 't', tool: 'x', readOnly: true, canElicit: false }, rules).action, 'refuse');
});

test('policy: a broken approvals file is refused naming the file and the field', () => {
  assert.throws(() => parseApprovalsFile('{', '/x/approvals.json'), /\/x\/approvals\.json: not valid JSON/);
  assert.throws(() => parseApprovalsFile('{"servers":{"s":"maybe"}}', '/x/approvals.json'), /\/x\/approvals\.json: .*servers/);
});

test('settings: a missing file is no rules; a reload with a broken file keeps the old rules', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcm-appr-'));
  const file = join(dir, 'approvals.json');
  const settings = new ApprovalSettings('auto', 1000, file, log);
  await settings.load();
  assert.equal(settings.rules().rule('s', 'write'), undefined);
  const { writeFileSync } = await import('node:fs');
  writeFileSync(file, JSON.stringify({ servers: { s: 'refuse' } }));
  await settings.reload();
  assert.equal(settings.rules().rule('s', 'write')?.rule, 'refuse');
  writeFileSync(file, 'not json');
  await settings.reload();
  assert.equal(settings.rules().rule('s', 'write')?.rule, 'refuse');
  await assert.rejects(settings.load(), /not valid JSON/);
  rmSync(dir, { recursive: true, force: true });
});

test('previews cut long values and never show secrets', () => {
  const text = previewArguments({ path: '/a', content: 'x'.repeat(500), apiKey: 'sk-live-123456', nested: { token: 'abcdefgh' }, note: 'password=hunter22' });
  assert.match(text, /x{200}… \(300 more characters\)/);
  assert.doesNotMatch(text, /sk-live|abcdefgh|hunter22/);
});

/** A RunApprovals on a fake clock; `events` is what went on the run's stream. */
function approvals(mode: 'writes' | 'all' = 'writes') {
  const broker = new ApprovalBroker();
  const events: (ApprovalEvent | ApprovalClosedEvent)[] = [];
  const timers: (() => void)[] = [];
  const waiting: boolean[] = [];
  const a = new RunApprovals({
    mode,
    canElicit: true,
    timeoutMs: 1000,
    broker,
    emit: (e) => events.push(e),
    onWaiting: (on) => waiting.push(on),
    setTimer: (fn) => timers.push(fn),
    clearTimer: () => undefined,
  });
  const asked = (): ApprovalEvent[] => events.filter((e): e is ApprovalEvent => e.type === 'approval');
  return { a, broker, events, timers, waiting, asked };
}

test('approver: calls of one tool waiting together share one question; allow_tool covers the rest of the run', async () => {
  const t = approvals();
  const signal = new AbortController().signal;
  const first = t.a.check('s', 'write', false, [{ n: 1 }], signal);
  const second = t.a.check('s', 'write', false, [{ n: 2 }], signal);
  await delay(1);
  assert.equal(t.asked().length, 1);
  assert.deepEqual(t.asked()[0]!.arguments, ['{"n":1}']);
  assert.ok(t.broker.answer(t.asked()[0]!.id, 'allow_tool'));
  assert.deepEqual(await first, { allowed: true, decision: 'allow_tool', by: 'user' });
  assert.deepEqual(await second, { allowed: true, decision: 'allowed_for_run', by: 'user' });
  assert.deepEqual(await t.a.check('s', 'write', false, [{}], signal), { allowed: true, decision: 'allowed_for_run', by: 'user' });
  // Another tool is asked again; a read under `writes` is not.
  void t.a.check('s', 'other', false, [{}], signal);
  assert.equal((await t.a.check('s', 'read', true, [{}], signal)).decision, 'not_asked');
  await delay(1);
  assert.equal(t.asked().length, 2);
  assert.equal(t.broker.answer(t.asked()[0]!.id, 'deny'), false, 'an answered id is gone');
  assert.deepEqual(t.waiting, [true, false, true]);
});

test('approver: allow_once covers only the call shown; a waiting sibling asks again; a denial is shared', async () => {
  const t = approvals();
  const signal = new AbortController().signal;
  const first = t.a.check('s', 'write', false, [{ n: 1 }], signal);
  const second = t.a.check('s', 'write', false, [{ n: 2 }], signal);
  await delay(1);
  t.broker.answer(t.asked()[0]!.id, 'allow_once');
  assert.equal((await first).decision, 'allow_once');
  await delay(1);
  assert.equal(t.asked().length, 2);
  assert.deepEqual(t.asked()[1]!.arguments, ['{"n":2}']);
  const third = t.a.check('s', 'write', false, [{ n: 3 }], signal);
  t.broker.answer(t.asked()[1]!.id, 'deny');
  const [b, c] = await Promise.all([second, third]);
  assert.equal(b.allowed, false);
  assert.equal(c.allowed, false);
  assert.match(b.message!, /s\.write was not run: the user denied it/);
});

test('approver: a batch is one question with its count; the timeout and the run ending are denials, withdrawn on the stream', async () => {
  const t = approvals();
  const run = new AbortController();
  const batch = t.a.check('s', 'write', false, [{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }], run.signal);
  await delay(1);
  assert.equal(t.asked()[0]!.count, 4);
  assert.equal(t.asked()[0]!.arguments.length, 3);
  t.timers[0]!();
  const timedOut = await batch;
  assert.deepEqual([timedOut.allowed, timedOut.by], [false, 'timeout']);
  assert.match(timedOut.message!, /MCP_BRIDGE_APPROVAL_TIMEOUT/);
  assert.deepEqual(t.events.at(-1), { type: 'approval_closed', id: t.asked()[0]!.id, decision: 'deny', by: 'timeout' });
  const pending = t.a.check('s', 'write', false, [{}], run.signal);
  await delay(1);
  run.abort();
  assert.equal((await pending).by, 'run_ended');
  assert.equal(t.events.at(-1)?.type, 'approval_closed');
  assert.equal(t.broker.size, 0);
});

/** A host of one server `srv` with a writing tool `put` and a read-only `get`. */
class WritingHost extends EmptyToolHost {
  calls: unknown[] = [];
  override discovered(): string[] {
    return ['srv'];
  }
  override async describe(servers: string[]): Promise<ServerInfo[]> {
    return servers.map((name) => ({ name, alias: name, tools: [] }));
  }
  async tool(server: string, tool: string, ctx: RpcContext): Promise<{ name: string; readOnly: boolean }> {
    if (!ctx.allowed.has(server)) throw new RpcFailure('server_not_allowed', server);
    return { name: tool, readOnly: tool === 'get' };
  }
  override async handle(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    if (method !== 'call_tool') return super.handle(method, params);
    this.calls.push(params.arguments);
    if ((params.arguments as { fail?: boolean }).fail) throw new RpcFailure('upstream_error', 'it failed');
    return { content: [{ type: 'text', text: 'ok' }] };
  }
}

function service(script: AgentScript, options: { answer?: (e: ApprovalEvent, broker: ApprovalBroker) => void; canElicit?: boolean } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'mcm-audit-'));
  const runtime = new FakeRuntime({ script });
  const pool = new SandboxPool({ runtime, size: 1, max: 2, queueMax: 2, log, janitorMs: 60_000 });
  const host = new WritingHost();
  const broker = new ApprovalBroker();
  const settings = new ApprovalSettings('writes', 60_000, join(dir, 'approvals.json'), log);
  const audit = new AuditLog(join(dir, 'audit.jsonl'), 1024 * 1024, log);
  const runs = new RunService({
    pool,
    router: new RpcRouter({ host }),
    limits: { defaultTimeoutSec: 1, maxTimeoutSec: 10, maxOutputBytes: 4096, maxCodeBytes: 4096, maxToolCalls: 12, maxConcurrentCalls: 4 },
    log,
    approvals: { settings, broker },
    audit,
  });
  const events: (ApprovalEvent | ApprovalClosedEvent)[] = [];
  const alive = setInterval(() => undefined, 1000);
  const run = (code: string) =>
    runs.run(
      { code, servers: ['srv'] },
      {
        canElicit: options.canElicit ?? true,
        client: 'unit-client',
        onApproval: (e) => {
          events.push(e);
          if (e.type === 'approval') options.answer?.(e, broker);
        },
      },
    );
  const records = (): AuditRecord[] => readFileSync(join(dir, 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const close = async () => {
    await pool.close();
    clearInterval(alive);
    rmSync(dir, { recursive: true, force: true });
  };
  return { runs, run, host, events, records, close, audit };
}

/** An agent that makes one RPC per line of `code` (`method {json params}`) and prints each answer. */
const rpcScript: AgentScript = async (agent, execute) => {
  for (const line of execute.code.split('\n')) {
    const [method, json] = [line.slice(0, line.indexOf(' ')), line.slice(line.indexOf(' ') + 1)];
    const answer = (await agent.rpc(method, JSON.parse(json))) as { ok: boolean; result?: unknown; error?: { code: string; message: string } };
    agent.print(execute.id, JSON.stringify(answer.ok ? answer.result : answer.error) + '\n');
  }
  agent.finish(execute.id);
};

test('run: a forged write frame is held for the decision, a denial is approval_denied, and the wait stops the run clock', async () => {
  const t = service(rpcScript, {
    // Answered after the run's whole 1 s timeout: the clock must have stopped meanwhile.
    answer: (e, broker) => void delay(1300).then(() => broker.answer(e.id, e.tool === 'put' && e.arguments[0]!.includes('"yes"') ? 'allow_once' : 'deny')),
  });
  const result = await t.run(['call_tool {"server":"srv","tool":"put","arguments":{"v":"yes"}}', 'call_tool {"server":"srv","tool":"put","arguments":{"v":"no"}}', 'call_tool {"server":"srv","tool":"get","arguments":{}}'].join('\n'));
  assert.equal(result.status, 'success', JSON.stringify(result));
  assert.match(result.stdout[1]!, /"code":"approval_denied".*srv\.put was not run: the user denied it/);
  assert.deepEqual(t.host.calls, [{ v: 'yes' }, {}]);
  assert.equal(t.events.filter((e) => e.type === 'approval').length, 2);
  await t.audit.flush();
  const records = t.records();
  assert.equal(records.length, 1);
  const [record] = records;
  assert.equal(record!.status, 'success');
  assert.equal(record!.client, 'unit-client');
  assert.deepEqual(record!.calls.map((c) => [c.tool, c.outcome, c.decision, c.by]), [
    ['put', 'ok', 'allow_once', 'user'],
    ['put', 'denied', 'deny', 'user'],
    ['get', 'ok', 'not_asked', 'none'],
  ]);
  await t.close();
});

test('run: call_batch asks once, answers each item in order, and counts every item against the budget', async () => {
  const t = service(rpcScript, { answer: (e, broker) => broker.answer(e.id, 'allow_once') });
  const items = JSON.stringify([{ n: 1 }, { n: 2, fail: true }, { n: 3 }]);
  const result = await t.run([`call_batch {"server":"srv","tool":"put","items":${items}}`, `call_batch {"server":"srv","tool":"put","items":${JSON.stringify(Array.from({ length: 10 }, () => ({})))}}`].join('\n'));
  assert.equal(result.status, 'success', JSON.stringify(result));
  const answers = JSON.parse(result.stdout[0]!) as { ok: boolean; error?: { code: string } }[];
  assert.deepEqual(answers.map((a) => a.ok), [true, false, true]);
  assert.equal(answers[1]!.error?.code, 'upstream_error');
  assert.equal(t.events.filter((e) => e.type === 'approval').length, 1);
  assert.equal((t.events[0] as ApprovalEvent).count, 3);
  assert.match(result.stdout[1]!, /budget_exceeded.*MCP_BRIDGE_MAX_TOOL_CALLS \(12\)/);
  await t.close();
});

test('run: under writes a client that cannot be asked is refused with the variable named', async () => {
  const t = service(rpcScript, { canElicit: false });
  const result = await t.run('call_tool {"server":"srv","tool":"put","arguments":{}}');
  assert.match(result.stdout[0]!, /approval_denied.*cannot be asked.*MCP_BRIDGE_APPROVAL/);
  assert.deepEqual(t.host.calls, []);
  assert.equal(t.events.length, 0);
  await t.close();
});

test('audit log: lines stay whole and the file is rotated by size, keeping three old ones', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcm-rot-'));
  const path = join(dir, 'audit.jsonl');
  const record = (i: number): AuditRecord => ({ time: String(i), servers: [], code: 'x'.repeat(100), codeSha256: '', codeBytes: 100, calls: [], status: 'success', durationMs: i });
  // Room for two lines and a half: a file is rotated once it holds three.
  const audit = new AuditLog(path, Math.round(2.5 * (JSON.stringify(record(0)).length + 1)), log);
  for (let i = 0; i < 12; i++) void audit.append(record(i));
  await audit.flush();
  const { existsSync } = await import('node:fs');
  const lines = (p: string) => readFileSync(p, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as AuditRecord).time);
  assert.deepEqual(lines(path), ['9', '10', '11']);
  assert.deepEqual(lines(`${path}.1`), ['6', '7', '8']);
  assert.deepEqual(lines(`${path}.3`), ['0', '1', '2']);
  assert.ok(!existsSync(`${path}.4`));
  rmSync(dir, { recursive: true, force: true });
});
