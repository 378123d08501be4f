import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

/** The one polling helper of the tests: waits until `check` holds; fails naming `what` after the timeout. */
export async function eventually(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 30_000, intervalMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await sleep(intervalMs);
  }
}
