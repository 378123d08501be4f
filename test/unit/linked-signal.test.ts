import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { test } from 'node:test';
import { linkedSignal } from '@mcp-code-mode/client';

test('linkedSignal aborts with the reason of whichever source aborts first, then unlinks from the others', () => {
  const a = new AbortController();
  const b = new AbortController();
  const linked = linkedSignal(a.signal, undefined, b.signal);
  assert.equal(linked.signal.aborted, false);
  assert.equal(getEventListeners(a.signal, 'abort').length, 1);
  b.abort('b first');
  assert.equal(linked.signal.aborted, true);
  assert.equal(linked.signal.reason, 'b first');
  assert.equal(getEventListeners(a.signal, 'abort').length, 0, 'still listening to a source after the abort');
});

test('dispose() leaves no listener on a source that never aborts (what AbortSignal.any does not give)', () => {
  const longLived = new AbortController();
  for (let i = 0; i < 100; i++) {
    using linked = linkedSignal(longLived.signal, new AbortController().signal);
    linked.signal.addEventListener('abort', () => undefined); // as the MCP SDK does, never removed
  }
  assert.equal(getEventListeners(longLived.signal, 'abort').length, 0);
  longLived.abort();
});

test('a source already aborted gives an aborted signal at once, linked to nothing', () => {
  const done = AbortSignal.abort('gone');
  const other = new AbortController();
  const linked = linkedSignal(other.signal, done);
  assert.equal(linked.signal.aborted, true);
  assert.equal(linked.signal.reason, 'gone');
  assert.equal(getEventListeners(other.signal, 'abort').length, 0);
});
