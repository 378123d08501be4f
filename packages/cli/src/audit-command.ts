import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { AuditRecordSchema, type AuditRecord } from '@mcp-code-mode/protocol';
import { statePaths } from '@mcp-code-mode/client';
import { UsageError, type CliContext } from './context.js';

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--since`: a duration back from now (`30m`, `2h`, `7d`) or a date (`2026-01-31`, an ISO time). */
export function parseSince(raw: string, now = Date.now()): number {
  const duration = /^\s*(\d+)\s*([smhd])\s*$/i.exec(raw);
  if (duration) return now - Number(duration[1]) * UNIT_MS[duration[2]!.toLowerCase()]!;
  const time = Date.parse(raw);
  if (Number.isNaN(time)) throw new UsageError(`--since must be a duration like 30m, 2h or 7d, or a date like 2026-01-31, got ${JSON.stringify(raw)}`);
  return time;
}

/** The audit records of the live file and its rotated ones, oldest first; unreadable lines are counted. */
export async function readAudit(file: string): Promise<{ records: AuditRecord[]; skipped: number }> {
  const records: AuditRecord[] = [];
  let skipped = 0;
  for (const path of [`${file}.3`, `${file}.2`, `${file}.1`, file]) {
    const text = await readFile(path, 'utf8').catch(() => '');
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      let parsed;
      try {
        parsed = AuditRecordSchema.safeParse(JSON.parse(line));
      } catch {
        parsed = undefined;
      }
      if (parsed?.success) records.push(parsed.data);
      else skipped++;
    }
  }
  return { records, skipped };
}

/** One run for a person: a line for the run, one indented line per tool call. */
export function formatAuditRecord(r: AuditRecord): string {
  const head = [r.time, r.status, `${r.durationMs}ms`, r.client ?? '-', r.session ? `session=${r.session.slice(0, 8)}` : '', `servers=${r.servers.join(',') || '-'}`, `calls=${r.calls.length}`, `code=${r.codeSha256.slice(0, 12)}`]
    .filter((s) => s !== '')
    .join(' ');
  const calls = r.calls.map((c) => {
    const decision = c.decision === 'not_asked' ? 'not asked' : `${c.decision} by ${c.by}`;
    const args = c.arguments.length > 120 ? `${c.arguments.slice(0, 120)}…` : c.arguments;
    return `  ${c.server}.${c.tool} ${c.outcome} (${decision}) ${c.durationMs}ms${c.batch ? ` batch=${c.batch}` : ''} ${args}${c.error ? ` error=${JSON.stringify(c.error.slice(0, 120))}` : ''}`;
  });
  return [head, ...calls].join('\n');
}

/** `mcp-code-mode audit [--since ...] [--json]`: the runs of <state dir>/audit.jsonl. */
export async function auditCommand(args: string[], ctx: CliContext, now = Date.now()): Promise<number> {
  const { values } = parseArgs({ args, options: { since: { type: 'string' }, json: { type: 'boolean', default: false } } });
  const since = values.since !== undefined ? parseSince(values.since, now) : undefined;
  const { auditFile } = statePaths(ctx.env);
  const { records, skipped } = await readAudit(auditFile);
  const shown = since === undefined ? records : records.filter((r) => Date.parse(r.time) >= since);
  if (records.length === 0 && skipped === 0) {
    ctx.stderr.write(`no audit log yet at ${auditFile} (no run has ended with this state directory)\n`);
    return values.json ? (ctx.stdout.write('[]\n'), 0) : 1;
  }
  if (values.json) ctx.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
  else for (const r of shown) ctx.stdout.write(`${formatAuditRecord(r)}\n`);
  if (skipped > 0) ctx.stderr.write(`${skipped} line(s) of ${auditFile} could not be read and were left out\n`);
  return 0;
}
