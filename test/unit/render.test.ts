import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decode } from '@toon-format/toon';
import type { RunResult } from '@mcp-code-mode/protocol';
import { modelView, renderResult } from '../../daemon/src/runs/render.ts';
import { OutputCollector } from '../../daemon/src/runs/output.ts';

const ok: RunResult = { status: 'success', summary: 'Success in 3 ms', exitCode: 0, stdout: ['42'], stderr: [], servers: [], durationMs: 3, toolCalls: 0 };

test('toon mode is a fenced TOON block that decodes back to the model view', () => {
  const rows = Array.from({ length: 20 }, (_, i) => `row ${i}`);
  const result = { ...ok, stdout: rows };
  const text = renderResult(result, 'toon');
  assert.match(text, /^```toon\n/);
  const body = text.replace(/^```toon\n/, '').replace(/\n```$/, '');
  assert.deepEqual(decode(body), modelView(result));
});

test('toon mode falls back to compact JSON when that is shorter', () => {
  const result: RunResult = { ...ok, stdout: ['a,b', 'c:d'] };
  const text = renderResult(result, 'toon');
  const json = JSON.stringify(modelView(result));
  if (text.startsWith('```json')) assert.equal(text, '```json\n' + json + '\n```');
  else assert.ok(text.length - '```toon\n\n```'.length <= json.length);
});

test('json and compact modes', () => {
  assert.deepEqual(JSON.parse(renderResult(ok, 'json')), { status: 'success', summary: 'Success in 3 ms', stdout: ['42'] });
  const err: RunResult = { ...ok, status: 'error', exitCode: 1, summary: 'ZeroDivisionError: division by zero', error: { type: 'ZeroDivisionError', message: 'division by zero', traceback: 'Traceback...\nZeroDivisionError: division by zero\n' } };
  assert.equal(renderResult(err, 'compact'), 'error: ZeroDivisionError: division by zero\n42\nTraceback...\nZeroDivisionError: division by zero');
});

test('the output cap keeps the head of a stream, counts the rest, and marks it', () => {
  const out = new OutputCollector(10);
  assert.equal(out.add('stdout', 'hello\n'), 'hello\n');
  assert.equal(out.add('stdout', 'world and more\n'), 'worl');
  assert.equal(out.add('stdout', 'x'.repeat(1000)), '');
  assert.equal(out.dropped.stdout, 11 + 1000);
  assert.deepEqual(out.lines('stdout'), ['hello', 'worl', '[output truncated: 1011 more bytes not shown]']);
  assert.deepEqual(out.lines('stderr'), []);
  assert.equal(out.truncated, true);
});

test('the cap never splits a UTF-8 character', () => {
  const out = new OutputCollector(4);
  assert.equal(out.add('stderr', 'ab✓'), 'ab');
  assert.equal(out.dropped.stderr, 3);
});
