import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createEvictingPool } from '../../daemon/src/pool/evicting-pool.ts';
import { eventually } from '../support/poll.ts';

const until = (what: string, check: () => boolean, timeoutMs = 3000): Promise<void> => eventually(check, what, timeoutMs, 5);

test('a failed creation with nobody waiting is tried again until the pool holds its minimum', async () => {
  let attempts = 0;
  const pool = createEvictingPool<{ n: number; dead: boolean }>(
    {
      create: async () => {
        attempts++;
        if (attempts === 2 || attempts === 3) throw new Error('engine hiccup');
        return { n: attempts, dead: false };
      },
      destroy: async () => undefined,
    },
    { min: 2, max: 2, autostart: true },
    (r) => r.dead,
    5,
  );
  await until('two available', () => pool.available === 2);
  assert.equal(attempts, 4, 'one resource, two failures, then the second resource');
  await pool.drain();
  await pool.clear();
});

test('a dead idle resource is evicted and replaced without a borrower', async () => {
  let made = 0;
  const resources: { n: number; dead: boolean }[] = [];
  const pool = createEvictingPool<{ n: number; dead: boolean }>(
    {
      create: async () => {
        const r = { n: ++made, dead: false };
        resources.push(r);
        return r;
      },
      destroy: async () => undefined,
    },
    { min: 1, max: 1, autostart: true, evictionRunIntervalMillis: 10, numTestsPerEvictionRun: 3, idleTimeoutMillis: Number.MAX_SAFE_INTEGER },
    (r) => r.dead,
  );
  await until('one available', () => pool.available === 1);
  resources[0]!.dead = true;
  await until('a replacement', () => made === 2 && pool.available === 1);
  await pool.drain();
  await pool.clear();
});

/** A pool of one whose every creation fails after 30 ms; `attempts()` counts them. */
function alwaysFailing() {
  let attempts = 0;
  const pool = createEvictingPool<object>(
    {
      create: async () => {
        attempts++;
        await new Promise((r) => setTimeout(r, 30));
        throw new Error('down');
      },
      destroy: async () => undefined,
    },
    { min: 1, max: 1, autostart: true },
    () => false,
    5,
  );
  return { pool, attempts: () => attempts };
}

test('a pool being drained is not refilled after a failure', async () => {
  const { pool, attempts } = alwaysFailing();
  await until('the first attempt', () => attempts() === 1);
  const draining = pool.drain();
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(attempts(), 1, 'no attempt after the drain began');
  await draining;
  await pool.clear();
});

test('while not draining, the same failing factory is retried', async () => {
  const { pool, attempts } = alwaysFailing();
  await until('a third attempt', () => attempts() >= 3);
  await pool.drain();
  await pool.clear();
});
