import { open, stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { statePaths } from '@mcp-code-mode/client';
import { UsageError, type CliContext } from './context.js';

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const SKIP = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'v']);

/** One pino JSON line for a person: time, level, message, then the other fields as key=value. */
export function formatLogLine(line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  if (typeof entry !== 'object' || entry === null) return line;
  const time = typeof entry.time === 'number' ? new Date(entry.time).toISOString() : '';
  const level = LEVELS[Number(entry.level)] ?? String(entry.level ?? '');
  const extra = Object.entries(entry)
    .filter(([k]) => !SKIP.has(k))
    .map(([k, v]) => {
      if (k === 'err' && v && typeof v === 'object') return `err=${JSON.stringify((v as { message?: string }).message ?? v)}`;
      return `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`;
    });
  return [time, level.padEnd(5), String(entry.msg ?? ''), ...extra].filter((s) => s !== '').join(' ');
}

/** Reads `path` from byte `from`; returns the complete lines and the offset after the last one. */
async function readLines(path: string, from: number): Promise<{ lines: string[]; next: number }> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    if (size <= from) return { lines: [], next: size < from ? 0 : from };
    const buffer = Buffer.alloc(size - from);
    await handle.read(buffer, 0, buffer.length, from);
    const end = buffer.lastIndexOf(0x0a);
    if (end < 0) return { lines: [], next: from };
    return { lines: buffer.subarray(0, end).toString('utf8').split('\n'), next: from + end + 1 };
  } finally {
    await handle.close();
  }
}

export interface LogsOptions {
  pollMs?: number;
  /** Ends `-f` (tests); otherwise it runs until the process is interrupted. */
  signal?: AbortSignal;
}

/** `mcp-code-mode logs [-n N] [-f] [--json]`: the state directory's daemon.log. */
export async function logsCommand(args: string[], ctx: CliContext, options: LogsOptions = {}): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { lines: { type: 'string', short: 'n', default: '50' }, follow: { type: 'boolean', short: 'f', default: false }, json: { type: 'boolean', default: false } },
  });
  const count = Number(values.lines);
  if (!Number.isInteger(count) || count < 0) throw new UsageError(`-n must be a whole number of lines, got ${values.lines}`);
  const { logFile } = statePaths(ctx.env);
  const show = (line: string): void => void ctx.stdout.write(`${values.json ? line : formatLogLine(line)}\n`);
  const size = await stat(logFile).then((s) => s.size, () => undefined);
  if (size === undefined && !values.follow) {
    ctx.stderr.write(`no log yet at ${logFile} (the daemon has not run with this state directory)\n`);
    return 1;
  }
  // Only the tail is shown, so only the tail is read: a long-lived log can be large.
  let offset = size === undefined ? 0 : Math.max(0, size - Math.max(64 * 1024, count * 2048));
  if (size !== undefined) {
    const { lines, next } = await readLines(logFile, offset);
    const complete = offset === 0 ? lines : lines.slice(1);
    for (const line of count === 0 ? [] : complete.filter((l) => l.trim() !== '').slice(-count)) show(line);
    offset = next;
  }
  if (!values.follow) return 0;
  const pollMs = options.pollMs ?? 250;
  while (!options.signal?.aborted) {
    await new Promise((resolve) => setTimeout(resolve, pollMs));
    const exists = await stat(logFile).then(() => true, () => false);
    if (!exists) continue;
    const { lines, next } = await readLines(logFile, offset);
    for (const line of lines) if (line.trim() !== '') show(line);
    offset = next;
  }
  return 0;
}
