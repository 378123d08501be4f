import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BusyError, RunGate } from '../../daemon/src/pool/run-gate.ts';

test('runs past the limit wait in order; past the queue they are refused as busy', async () => {
  const gate = new RunGate(1, 2);
  await gate.enter();
  const order: number[] = [];
  const a = gate.enter().then(() => order.push(1));
  const b = gate.enter().then(() => order.push(2));
  await assert.rejects(gate.enter(), BusyError);
  assert.equal(gate.queued, 2);
  gate.leave();
  await a;
  gate.leave();
  await b;
  assert.deepEqual(order, [1, 2]);
  gate.leave();
  assert.equal(gate.running, 0);
});

test('an aborted waiter leaves the queue', async () => {
  const gate = new RunGate(1, 5);
  await gate.enter();
  const control = new AbortController();
  const waiting = gate.enter(control.signal);
  control.abort(new Error('client went away'));
  await assert.rejects(waiting, /client went away/);
  assert.equal(gate.queued, 0);
});
