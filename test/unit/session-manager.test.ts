import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import pino from 'pino';
import { newSessionId, SessionGoneError, SessionLimitError, SessionManager, type Session, type SessionPool } from '../../daemon/src/sessions/session-manager.ts';

class FakeSandbox extends EventEmitter {
  closed = false;
  constructor(readonly id: string) {
    super();
  }
  die(): void {
    this.closed = true;
    this.emit('closed');
  }
}

class FakePool implements SessionPool<FakeSandbox> {
  leased = 0;
  retired: string[] = [];
  constructor(readonly capacity = 10) {}
  async take(): Promise<FakeSandbox> {
    this.leased++;
    return new FakeSandbox(`container${this.leased}`.padEnd(16, '0'));
  }
  async retire(sandbox: FakeSandbox): Promise<void> {
    this.retired.push(sandbox.id);
  }
}

const log = pino({ level: 'silent' });

/** One run in a session as the run service makes it: take the turn, run, leave. */
async function runIn<T>(sessions: SessionManager<FakeSandbox>, session: Session<FakeSandbox>, task: (sandbox: FakeSandbox) => Promise<T>): Promise<T> {
  const turn = await sessions.turn(session);
  try {
    return await task(turn.sandbox);
  } finally {
    await turn.leave();
  }
}

function manager(options: { max?: number; ttl?: number; capacity?: number } = {}): { sessions: SessionManager<FakeSandbox>; pool: FakePool } {
  const pool = new FakePool(options.capacity);
  const sessions = new SessionManager<FakeSandbox>({ pool, maxSessions: options.max ?? 3, idleTtlSec: options.ttl ?? 900, log });
  return { sessions, pool };
}

test('ids are unguessable: 144 random bits, url-safe, never repeated', () => {
  const ids = new Set(Array.from({ length: 1000 }, newSessionId));
  assert.equal(ids.size, 1000);
  for (const id of ids) assert.match(id, /^ses_[A-Za-z0-9_-]{24}$/);
});

test('runs of one session go one at a time, in order; two sessions run side by side', async () => {
  const { sessions } = manager();
  const a = await sessions.start([]);
  const b = await sessions.start([]);
  const log: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const first = runIn(sessions, a, async () => {
    log.push('a1 start');
    await gate;
    log.push('a1 end');
  });
  const second = runIn(sessions, a, async () => void log.push('a2'));
  await runIn(sessions, b, async () => void log.push('b1'));
  assert.deepEqual(log, ['a1 start', 'b1']);
  assert.equal(sessions.list().find((s) => s.id === a.id)?.busy, true);
  release();
  await Promise.all([first, second]);
  assert.deepEqual(log, ['a1 start', 'b1', 'a1 end', 'a2']);
  assert.equal(a.runs, 2);
});

test('a failing run does not block the next one of its session', async () => {
  const { sessions } = manager();
  const s = await sessions.start([]);
  await assert.rejects(runIn(sessions, s, async () => { throw new Error('boom'); }), /boom/);
  assert.equal(await runIn(sessions, s, async () => 'next'), 'next');
});

test('an unknown id, and an ended one with its reason, are refused', async () => {
  const { sessions, pool } = manager();
  assert.throws(() => sessions.get('ses_nope'), (err: unknown) => err instanceof SessionGoneError && /never existed/.test(err.message));
  const s = await sessions.start(['a']);
  assert.equal(await sessions.end(s.id, 'ended for the test'), true);
  assert.equal(await sessions.end(s.id, 'a second reason'), false);
  assert.throws(() => sessions.get(s.id), /unknown or has expired: ended for the test\. Start a new one with session: "new"/);
  assert.deepEqual(pool.retired, [s.sandbox.id]);
  assert.deepEqual(sessions.describe(s.id), { id: s.id, state: 'ended', reason: 'ended for the test' });
});

test('a run queued behind the one that ends the session is refused, not run on a fresh state', async () => {
  const { sessions } = manager();
  const s = await sessions.start([]);
  let ran = false;
  const first = runIn(sessions, s, async () => void (await sessions.end(s.id, 'timed out')));
  const second = runIn(sessions, s, async () => void (ran = true));
  await first;
  await assert.rejects(second, (err: unknown) => err instanceof SessionGoneError && err.reason === 'timed out');
  assert.equal(ran, false);
});

test('MAX_SESSIONS, and one run slot kept for runs without a session', async () => {
  const { sessions } = manager({ max: 2, capacity: 10 });
  await sessions.start([]);
  await sessions.start([]);
  await assert.rejects(sessions.start([]), (err: unknown) => err instanceof SessionLimitError && /MCP_BRIDGE_MAX_SESSIONS \(2\)/.test(err.message));
  const small = manager({ max: 8, capacity: 3 }).sessions;
  await small.start([]);
  await small.start([]);
  await assert.rejects(small.start([]), /one is kept for runs without a session/);
  const off = manager({ max: 0 }).sessions;
  await assert.rejects(off.start([]), /MCP_BRIDGE_MAX_SESSIONS=0/);
});

test('an idle session expires after its TTL and its container is removed; a run stops the clock', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const { sessions, pool } = manager({ ttl: 60 });
  const s = await sessions.start([]);
  t.mock.timers.tick(59_000);
  await runIn(sessions, s, async () => t.mock.timers.tick(120_000));
  t.mock.timers.tick(59_000);
  assert.equal(sessions.list().length, 1);
  t.mock.timers.tick(1_000);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(sessions.list().length, 0);
  assert.deepEqual(pool.retired, [s.sandbox.id]);
  assert.throws(() => sessions.get(s.id), /expired after 60 s without a run/);
});

test('a container that dies while idle ends its session; /status shows only id prefixes', async () => {
  const { sessions } = manager();
  const a = await sessions.start(['x']);
  const b = await sessions.start([]);
  const status = sessions.status();
  assert.equal(status.open, 2);
  assert.ok(status.list.every((s) => s.idPrefix.length < a.id.length && !JSON.stringify(status).includes(a.id)));
  a.sandbox.die();
  await new Promise((resolve) => setImmediate(resolve));
  assert.throws(() => sessions.get(a.id), /sandbox exited/);
  assert.equal(sessions.get(b.id), b);
  await sessions.close();
  assert.throws(() => sessions.get(b.id), /daemon stopped/);
  await assert.rejects(sessions.start([]), /shutting down/);
});
