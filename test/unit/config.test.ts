import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseEnvConfig } from '@mcp-code-mode/protocol';

test('defaults are the documented ones (docs/CONFIG.md) when nothing is set', () => {
  const check = parseEnvConfig({});
  assert.ok(check.ok);
  const c = check.config;
  assert.equal(c.MCP_BRIDGE_IMAGE, 'python:3.12-slim');
  assert.equal(c.MCP_BRIDGE_TIMEOUT, 30);
  assert.equal(c.MCP_BRIDGE_MAX_TIMEOUT, 120);
  assert.equal(c.MCP_BRIDGE_MEMORY, 512 * 1024 * 1024);
  assert.equal(c.MCP_BRIDGE_PIDS, 128);
  assert.equal(c.MCP_BRIDGE_CPUS, undefined);
  assert.equal(c.MCP_BRIDGE_CONTAINER_USER, '65534:65534');
  assert.equal(c.MCP_BRIDGE_POOL_SIZE, 2);
  assert.equal(c.MCP_BRIDGE_POOL_MAX, 8);
  assert.equal(c.MCP_BRIDGE_MAX_OUTPUT_BYTES, 64 * 1024);
  assert.equal(c.MCP_BRIDGE_OUTPUT_MODE, 'toon');
  assert.deepEqual(c.MCP_BRIDGE_PRELOAD, ['numpy', 'pandas', 'matplotlib.pyplot']);
});

test('MCP_BRIDGE_PRELOAD: module names in order, deduplicated; none for none; a bad name or too many is named', () => {
  const preload = (value: string) => parseEnvConfig({ MCP_BRIDGE_PRELOAD: value });
  const ok = preload(' scipy.stats, numpy  numpy,,_private ');
  assert.ok(ok.ok);
  assert.deepEqual(ok.config.MCP_BRIDGE_PRELOAD, ['scipy.stats', 'numpy', '_private']);
  const none = preload('none');
  assert.ok(none.ok);
  assert.deepEqual(none.config.MCP_BRIDGE_PRELOAD, []);
  const bad = preload('numpy, os;rm, 1abc');
  assert.equal(bad.ok, false);
  if (!bad.ok) assert.match(bad.problems.join('\n'), /MCP_BRIDGE_PRELOAD: "os;rm", "1abc" are not Python module names/);
  const many = preload(Array.from({ length: 33 }, (_, i) => `m${i}`).join(','));
  assert.equal(many.ok, false);
  if (!many.ok) assert.match(many.problems.join('\n'), /MCP_BRIDGE_PRELOAD: 33 modules, at most 32/);
});

test('sizes and numbers are parsed', () => {
  const check = parseEnvConfig({ MCP_BRIDGE_MEMORY: '1g', MCP_BRIDGE_CPUS: '1.5', MCP_BRIDGE_MAX_OUTPUT_BYTES: '100k', MCP_BRIDGE_POOL_SIZE: '0' });
  assert.ok(check.ok);
  assert.equal(check.config.MCP_BRIDGE_MEMORY, 1024 ** 3);
  assert.equal(check.config.MCP_BRIDGE_CPUS, 1.5);
  assert.equal(check.config.MCP_BRIDGE_MAX_OUTPUT_BYTES, 100 * 1024);
  assert.equal(check.config.MCP_BRIDGE_POOL_SIZE, 0);
});

test('every bad value is reported with the name of its variable', () => {
  const cases: [string, string][] = [
    ['MCP_BRIDGE_MEMORY', 'lots'],
    ['MCP_BRIDGE_PIDS', '-1'],
    ['MCP_BRIDGE_PIDS', '12.5'],
    ['MCP_BRIDGE_TIMEOUT', 'soon'],
    ['MCP_BRIDGE_CPUS', '0'],
    ['MCP_BRIDGE_CONTAINER_USER', 'root'],
    ['MCP_BRIDGE_OUTPUT_MODE', 'yaml'],
    ['MCP_BRIDGE_RUNTIME', 'lxc'],
    ['MCP_BRIDGE_POOL_MAX', '0'],
    ['MCP_BRIDGE_AUTOSTART', 'maybe'],
    ['MCP_BRIDGE_MAX_CODE_BYTES', '16m'],
  ];
  for (const [name, value] of cases) {
    const check = parseEnvConfig({ [name]: value });
    assert.equal(check.ok, false, `${name}=${value} must be refused`);
    if (!check.ok) assert.match(check.problems.join('\n'), new RegExp(name), `${name}=${value}: ${check.problems.join('; ')}`);
  }
});

test('cross-field rules name both variables', () => {
  const a = parseEnvConfig({ MCP_BRIDGE_TIMEOUT: '200' });
  assert.equal(a.ok, false);
  if (!a.ok) assert.match(a.problems[0]!, /MCP_BRIDGE_TIMEOUT.*MCP_BRIDGE_MAX_TIMEOUT/);
  const b = parseEnvConfig({ MCP_BRIDGE_POOL_SIZE: '9' });
  assert.equal(b.ok, false);
  if (!b.ok) assert.match(b.problems[0]!, /MCP_BRIDGE_POOL_SIZE.*MCP_BRIDGE_POOL_MAX/);
});
