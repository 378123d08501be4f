import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { CLIENT_ERROR_CODES, ENV_VARIABLES, ERROR_CODES } from '@mcp-code-mode/protocol';

const doc = (name: string): string => readFileSync(new URL(`../../docs/${name}`, import.meta.url), 'utf8');

/** The first column of every table row of a markdown document, without its backticks. */
function tableKeys(markdown: string): string[] {
  return [...markdown.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]!);
}

test('docs/ERRORS.md lists every control API error code with its HTTP status, and every client code', () => {
  const text = doc('ERRORS.md');
  const keys = tableKeys(text);
  for (const [code, { status }] of Object.entries(ERROR_CODES)) {
    assert.ok(keys.includes(code), `docs/ERRORS.md lacks ${code}`);
    assert.match(text, new RegExp(`^\\| \`${code}\` \\| ${status} \\|`, 'm'), `docs/ERRORS.md gives ${code} another status than ${status}`);
  }
  for (const code of Object.keys(CLIENT_ERROR_CODES)) assert.ok(keys.includes(code), `docs/ERRORS.md lacks the client code ${code}`);
  const known = new Set([...Object.keys(ERROR_CODES), ...Object.keys(CLIENT_ERROR_CODES)]);
  for (const key of keys) assert.ok(known.has(key), `docs/ERRORS.md lists ${key}, which no catalogue has`);
});

test('docs/CONFIG.md lists every MCP_BRIDGE_* variable, and no other', () => {
  const keys = tableKeys(doc('CONFIG.md')).filter((k) => k.startsWith('MCP_BRIDGE_'));
  for (const name of ENV_VARIABLES) assert.ok(keys.includes(name), `docs/CONFIG.md lacks ${name}`);
  for (const key of keys) assert.ok((ENV_VARIABLES as string[]).includes(key), `docs/CONFIG.md lists ${key}, which config.ts does not know`);
});

test('client code and error code catalogues do not overlap', () => {
  for (const code of Object.keys(CLIENT_ERROR_CODES)) assert.equal(code in ERROR_CODES, false, code);
});

test('README.md names every MCP_BRIDGE_* variable, and no other', () => {
  const keys = tableKeys(readFileSync(new URL('../../README.md', import.meta.url), 'utf8')).filter((k) => k.startsWith('MCP_BRIDGE_'));
  for (const name of ENV_VARIABLES) assert.ok(keys.includes(name), `README.md lacks ${name}`);
  for (const key of keys) assert.ok((ENV_VARIABLES as string[]).includes(key), `README.md lists ${key}, which config.ts does not know`);
});
