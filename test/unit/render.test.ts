import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decode } from '@toon-format/toon';
import { encode as countTokens } from 'gpt-tokenizer';
import type { RunResult } from '@mcp-code-mode/protocol';
import { modelView, renderResult } from '../../daemon/src/runs/render.ts';
import { OutputCollector } from '../../daemon/src/runs/output.ts';

const ok: RunResult = { status: 'success', summary: 'Success in 3 ms', exitCode: 0, stdout: ['42'], stderr: [], servers: [], durationMs: 3, toolCalls: 0 };

test('toon mode is a fenced TOON block that decodes back to the model view', () => {
  const rows = Array.from({ length: 20 }, (_, i) => ({ id: i, city: `city ${i}`, temp: i * 1.5 }));
  const result = { ...ok, stdout: [JSON.stringify(rows)] };
  const text = renderResult(result, 'toon');
  assert.match(text, /^```toon\n/);
  const body = text.replace(/^```toon\n/, '').replace(/\n```$/, '');
  assert.deepEqual(decode(body), modelView(result));
});

test('toon mode never costs more tokens than compact JSON (real tokenizer)', () => {
  const lines = Array.from({ length: 60 }, (_, i) => `2026-11-25T10:${String(i).padStart(2, '0')}:00Z INFO worker-${i % 4} batch ${i}`);
  const doc = { service: 'billing', endpoints: Array.from({ length: 8 }, (_, i) => ({ path: `/v1/items/${i}`, methods: ['GET', 'PUT'], auth: { scopes: ['read'] } })) };
  const rows = Array.from({ length: 40 }, (_, i) => ({ id: i, name: `user${i}`, active: i % 3 !== 0 }));
  const shapes: string[][] = [lines, JSON.stringify(doc).split('\n'), JSON.stringify(rows).split('\n'), ['hello'], ['a:b', 'c,d', '- e']];
  for (const stdout of shapes) {
    const result = { ...ok, stdout };
    const text = renderResult(result, 'toon');
    const json = JSON.stringify(modelView(result));
    assert.ok(countTokens(text).length <= countTokens(json).length, `toon mode ${countTokens(text).length} > compact JSON ${countTokens(json).length} for ${stdout[0]}`);
    if (!text.startsWith('```toon')) assert.equal(text, json, 'the fallback is the compact JSON itself');
  }
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

test('stdout that is one JSON document reaches the model as a value, tabulated by TOON', () => {
  const rows = Array.from({ length: 5 }, (_, i) => ({ id: i, name: `n${i}`, ok: i % 2 === 0 }));
  const result: RunResult = { ...ok, stdout: JSON.stringify(rows, null, 2).split('\n') };
  assert.deepEqual(modelView(result).output, rows);
  assert.equal(modelView(result).stdout, undefined);
  const text = renderResult(result, 'toon');
  assert.match(text, /output\[5\]\{id,name,ok\}:/);
  assert.equal(modelView({ ...ok, stdout: ['[1, 2', 'oops'] }).output, undefined, 'not JSON: kept as lines');
});

test('stdout printed as JSON lines reaches the model as a list, tabulated like a printed JSON list', () => {
  const rows = Array.from({ length: 5 }, (_, i) => ({ id: i, name: `n${i}`, ok: i % 2 === 0 }));
  const result: RunResult = { ...ok, stdout: rows.map((row) => JSON.stringify(row)) };
  assert.deepEqual(modelView(result).output, rows);
  assert.equal(renderResult(result, 'toon'), renderResult({ ...ok, stdout: [JSON.stringify(rows)] }, 'toon'));
  assert.match(renderResult(result, 'toon'), /output\[5\]\{id,name,ok\}:/);
  // Not JSON lines: kept as lines.
  for (const stdout of [['{"a": 1}', 'done'], ['{"a": 1}', '[1]'], ['{"a": 1}', '{"b": '], ['{"a": 1}  {"b": 2}']]) {
    assert.equal(modelView({ ...ok, stdout }).output, undefined, JSON.stringify(stdout));
    assert.deepEqual(modelView({ ...ok, stdout }).stdout, stdout);
  }
  // Blank lines between rows do not matter; one object alone is still the one document it was.
  assert.deepEqual(modelView({ ...ok, stdout: ['{"a":1}', '', '{"a":2}'] }).output, [{ a: 1 }, { a: 2 }]);
  assert.deepEqual(modelView({ ...ok, stdout: ['{"a":1}'] }).output, { a: 1 });
});
