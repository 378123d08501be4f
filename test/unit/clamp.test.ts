import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RunInputSchema, unknownRunFields } from '@mcp-code-mode/protocol';
import { annotateSummary, clampTimeout, ignoredFieldsNote } from '../../daemon/src/runs/clamp.ts';

const limits = { defaultTimeoutSec: 30, maxTimeoutSec: 120 };

test('a timeout within the maximum is kept, none gives the default, and neither has a note', () => {
  assert.deepEqual(clampTimeout(undefined, limits), { timeoutSec: 30 });
  assert.deepEqual(clampTimeout(5, limits), { timeoutSec: 5 });
  assert.deepEqual(clampTimeout(120, limits), { timeoutSec: 120 });
});

test('a timeout over the maximum is lowered to it, and the note names the variable and both numbers', () => {
  const { timeoutSec, note } = clampTimeout(500, limits);
  assert.equal(timeoutSec, 120);
  assert.equal(note, 'timeout 500 s lowered to the 120 s maximum, MCP_BRIDGE_MAX_TIMEOUT');
  assert.equal(annotateSummary('Success in 3 ms', [note]), 'Success in 3 ms (timeout 500 s lowered to the 120 s maximum, MCP_BRIDGE_MAX_TIMEOUT)');
});

test('unknown fields are dropped by the schema and named by the helper; client-injected ones are not told to the model', () => {
  const input = { code: 'print(1)', wait_for_previous: true, timout: 5 };
  const parsed = RunInputSchema.safeParse(input);
  assert.ok(parsed.success, 'unknown fields are not refused');
  assert.deepEqual(Object.keys(parsed.data).sort(), ['code', 'servers']);
  assert.deepEqual(unknownRunFields(input), ['wait_for_previous', 'timout']);
  assert.deepEqual(unknownRunFields({ code: 'x', servers: [], timeout: 1, session: 'new' }), []);
  assert.deepEqual(unknownRunFields('not an object'), []);
  assert.equal(ignoredFieldsNote(['wait_for_previous']), undefined);
  assert.equal(ignoredFieldsNote(['wait_for_previous', 'timout']), 'ignored unknown field timout');
  assert.equal(ignoredFieldsNote(['timout', 'server']), 'ignored unknown fields timout, server');
});

test('notes join in one parenthesis; no notes leave the summary as it is', () => {
  assert.equal(annotateSummary('Success in 3 ms', []), 'Success in 3 ms');
  assert.equal(annotateSummary('Success in 3 ms', [undefined, '']), 'Success in 3 ms');
  assert.equal(annotateSummary('Timed out after 120 s', ['a', undefined, 'b']), 'Timed out after 120 s (a; b)');
});
