import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { RpcErrorCodeSchema } from '@mcp-code-mode/protocol';
import { CATALOGUE_PATH, renderCatalogue } from '../../packages/protocol/scripts/gen-fixtures.ts';

test('the committed catalogue fixture is what protocol exports today (run npm run gen:fixtures when not)', () => {
  assert.equal(readFileSync(CATALOGUE_PATH, 'utf8'), renderCatalogue());
});

test('docs/PROTOCOL.md lists every RPC error code of the catalogue, and no other', () => {
  const doc = readFileSync(new URL('../../docs/PROTOCOL.md', import.meta.url), 'utf8');
  const section = doc.slice(doc.indexOf('## RPC error codes'), doc.indexOf('\n## ', doc.indexOf('## RPC error codes') + 1));
  const listed = [...section.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]);
  assert.deepEqual(listed, [...RpcErrorCodeSchema.options]);
});
