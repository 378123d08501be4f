import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { AuditRecord } from '@mcp-code-mode/protocol';
import { auditCommand, parseSince } from '../../packages/cli/src/audit-command.ts';

const record = (time: string, tool: string): AuditRecord => ({
  time,
  client: 'claude',
  servers: ['fs'],
  code: 'x',
  codeSha256: 'a'.repeat(64),
  codeBytes: 1,
  calls: [{ at: time, server: 'fs', tool, argumentsSha256: 'b'.repeat(64), arguments: '{"path":"/a"}', outcome: 'denied', durationMs: 3, decision: 'deny', by: 'user' }],
  status: 'success',
  durationMs: 10,
});

function cli(dir: string) {
  let out = '';
  let err = '';
  return { ctx: { env: { MCP_BRIDGE_STATE_DIR: dir }, stdout: { write: (t: string) => (out += t) }, stderr: { write: (t: string) => (err += t) } }, out: () => out, err: () => err };
}

test('--since takes a duration or a date, and names itself when it is neither', () => {
  assert.equal(parseSince('2h', 10 * 3_600_000), 8 * 3_600_000);
  assert.equal(parseSince('2026-01-31T00:00:00Z'), Date.UTC(2026, 0, 31));
  assert.throws(() => parseSince('yesterday'), /--since must be a duration like 30m/);
});

test('audit reads the rotated files oldest first, filters by --since, and counts lines it cannot read', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcm-auditcli-'));
  writeFileSync(join(dir, 'audit.jsonl.1'), JSON.stringify(record('2026-01-01T00:00:00.000Z', 'old')) + '\n');
  writeFileSync(join(dir, 'audit.jsonl'), JSON.stringify(record('2026-03-01T00:00:00.000Z', 'write_file')) + '\n');
  appendFileSync(join(dir, 'audit.jsonl'), 'not json\n');
  const all = cli(dir);
  assert.equal(await auditCommand([], all.ctx), 0);
  assert.match(all.out(), /2026-01-01.*\n  fs\.old denied \(deny by user\)[^]*2026-03-01.*claude servers=fs calls=1[^]*fs\.write_file/);
  assert.match(all.err(), /1 line\(s\) .* could not be read/);
  const recent = cli(dir);
  assert.equal(await auditCommand(['--since', '2026-02-01', '--json'], recent.ctx), 0);
  assert.deepEqual((JSON.parse(recent.out()) as AuditRecord[]).map((r) => r.calls[0]!.tool), ['write_file']);
  rmSync(dir, { recursive: true, force: true });
  const none = cli(join(dir, 'missing'));
  assert.equal(await auditCommand([], none.ctx), 1);
  assert.match(none.err(), /no audit log yet/);
});
