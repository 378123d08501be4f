import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { acquireInstanceLock, DaemonRunningError } from '../../daemon/src/instance-lock.ts';

const lockPath = () => join(mkdtempSync(join(tmpdir(), 'mcm-lock-')), 'daemon.lock');

test('the first daemon takes the lock (mode 0600, its pid); a second one is refused naming the first', async () => {
  const path = lockPath();
  const lock = await acquireInstanceLock(path, { pid: 100, isAlive: () => true });
  assert.equal(readFileSync(path, 'utf8'), '100\n');
  assert.equal(statSync(path).mode & 0o777, 0o600);
  await assert.rejects(acquireInstanceLock(path, { pid: 200, isAlive: () => true }), (err: DaemonRunningError) => err instanceof DaemonRunningError && err.pid === 100);
  lock.release();
  assert.equal(existsSync(path), false);
  await acquireInstanceLock(path, { pid: 200, isAlive: () => true });
  assert.equal(readFileSync(path, 'utf8'), '200\n');
});

test('a lock whose daemon is dead (killed) is broken', async () => {
  const path = lockPath();
  writeFileSync(path, '4242\n');
  await acquireInstanceLock(path, { pid: 300, isAlive: (pid) => pid !== 4242 });
  assert.equal(readFileSync(path, 'utf8'), '300\n');
});

test('two starters that both find the same stale lock: exactly one wins', async () => {
  const path = lockPath();
  writeFileSync(path, '4242\n');
  const isAlive = (pid: number) => pid !== 4242;
  const results = await Promise.allSettled([acquireInstanceLock(path, { pid: 301, isAlive, retryMs: 1 }), acquireInstanceLock(path, { pid: 302, isAlive, retryMs: 1 })]);
  const won = results.filter((r) => r.status === 'fulfilled');
  const lost = results.filter((r) => r.status === 'rejected');
  assert.equal(won.length, 1);
  assert.equal(lost.length, 1);
  assert.ok((lost[0] as PromiseRejectedResult).reason instanceof DaemonRunningError);
  assert.match(readFileSync(path, 'utf8'), /^30[12]\n$/);
});

test('release leaves a lock that another daemon has since taken', async () => {
  const path = lockPath();
  const lock = await acquireInstanceLock(path, { pid: 400, isAlive: () => true });
  writeFileSync(path, '401\n');
  lock.release();
  assert.equal(readFileSync(path, 'utf8'), '401\n');
});

test('an empty or garbled lock file (a crash while writing it) is broken', async () => {
  const path = lockPath();
  writeFileSync(path, '');
  await acquireInstanceLock(path, { pid: 500, isAlive: () => true });
  assert.equal(readFileSync(path, 'utf8'), '500\n');
});
