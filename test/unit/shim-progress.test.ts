import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProgressReporter, type ProgressUpdate } from '../../shim/src/progress.ts';

/** A clock and timers the test moves by hand. */
function fakeTime() {
  let now = 0;
  const timers: { at: number; fn: () => void; cleared: boolean; unref: () => void }[] = [];
  return {
    now: () => now,
    setTimer: (fn: () => void, ms: number) => {
      const t = { at: now + ms, fn, cleared: false, unref: () => undefined };
      timers.push(t);
      return t;
    },
    clearTimer: (t: unknown) => void ((t as { cleared: boolean }).cleared = true),
    advance(ms: number) {
      now += ms;
      for (const t of timers.filter((t) => !t.cleared && t.at <= now)) {
        t.cleared = true;
        t.fn();
      }
    },
  };
}

test('the first chunk waits an interval from the start; chunks within the interval are merged into one later notification', () => {
  const time = fakeTime();
  const sent: ProgressUpdate[] = [];
  const p = new ProgressReporter({ send: (u) => void sent.push(u), intervalMs: 200, setTimer: time.setTimer, clearTimer: time.clearTimer }, time.now);
  time.advance(150);
  p.add('stdout', 'a\n');
  assert.deepEqual(sent, [], 'nothing before the run has lasted an interval');
  time.advance(50);
  assert.deepEqual(sent, [{ progress: 1, message: 'a' }]);
  time.advance(50);
  p.add('stdout', 'b\n');
  p.add('stdout', 'c\n');
  assert.equal(sent.length, 1);
  time.advance(150);
  assert.deepEqual(sent[1], { progress: 2, message: 'a\nb\nc' });
  time.advance(1000);
  p.add('stderr', 'oops\nagain\n');
  assert.deepEqual(sent[2], { progress: 3, message: 'a\nb\nc\n[stderr] oops\n[stderr] again' });
});

test('a run shorter than the interval sends nothing, and its answer does not wait', () => {
  const time = fakeTime();
  const sent: ProgressUpdate[] = [];
  const p = new ProgressReporter({ send: (u) => void sent.push(u), intervalMs: 200, settleMs: 100, setTimer: time.setTimer, clearTimer: time.clearTimer }, time.now);
  p.add('stdout', 'a\n');
  time.advance(20);
  assert.equal(p.settle(), undefined);
  time.advance(1000);
  assert.deepEqual(sent, []);
});

test('settle(): the answer waits until settleMs after the last notification, and nothing is sent after it', () => {
  const time = fakeTime();
  const sent: ProgressUpdate[] = [];
  const p = new ProgressReporter({ send: (u) => void sent.push(u), intervalMs: 200, settleMs: 100, setTimer: time.setTimer, clearTimer: time.clearTimer }, time.now);
  time.advance(300);
  p.add('stdout', 'a\n');
  assert.equal(sent.length, 1);
  time.advance(30);
  p.add('stdout', 'b\n');
  assert.equal(p.settle(), 70);
  time.advance(1000);
  assert.equal(sent.length, 1, 'the merged chunk that was waiting is dropped');
  // A notification long enough ago: no wait.
  const q = new ProgressReporter({ send: (u) => void sent.push(u), intervalMs: 0, settleMs: 100, setTimer: time.setTimer, clearTimer: time.clearTimer }, time.now);
  q.note('waiting for approval');
  time.advance(150);
  assert.equal(q.settle(), 0);
  // An approval note counts as a notification as well.
  const r = new ProgressReporter({ send: (u) => void sent.push(u), intervalMs: 200, settleMs: 100, setTimer: time.setTimer, clearTimer: time.clearTimer }, time.now);
  r.note('waiting for approval');
  time.advance(10);
  assert.equal(r.settle(), 90);
});

test('nothing is sent after stop(), not even a merged chunk that was waiting', () => {
  const time = fakeTime();
  const sent: ProgressUpdate[] = [];
  const p = new ProgressReporter({ send: (u) => void sent.push(u), intervalMs: 200, setTimer: time.setTimer, clearTimer: time.clearTimer }, time.now);
  time.advance(200);
  p.add('stdout', 'a\n');
  p.add('stdout', 'b\n');
  p.stop();
  time.advance(1000);
  p.add('stdout', 'c\n');
  assert.equal(sent.length, 1);
});

test('the message keeps only the last lines within the size limit', () => {
  const sent: ProgressUpdate[] = [];
  const p = new ProgressReporter({ send: (u) => void sent.push(u), intervalMs: 0, maxMessageChars: 20 });
  for (let i = 0; i < 10; i++) p.add('stdout', `line ${i}\n`);
  const last = sent.at(-1)!.message;
  assert.ok(last.startsWith('…\n'), last);
  assert.ok(last.length <= 22, last);
  assert.ok(last.endsWith('line 9'));
  assert.doesNotMatch(last, /line 0/);
});
