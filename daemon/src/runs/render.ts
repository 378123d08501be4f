import { encode } from '@toon-format/toon';
import type { OutputMode, RunResult } from '@mcp-code-mode/protocol';

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * stdout that is, as a whole, one JSON array or object, or JSON lines (one object per line, at
 * least two): the value (the lines as a list), else undefined. JSON lines are how code that prints
 * rows in a loop writes them, and as a list TOON lays them out as one table.
 */
function jsonDocument(lines: string[]): unknown {
  const text = lines.join('\n').trim();
  if (!(text.startsWith('[') || text.startsWith('{'))) return undefined;
  const whole = parseJson(text);
  if (whole !== undefined) return whole;
  const rows = lines.filter((line) => line.trim() !== '');
  if (rows.length < 2 || !rows.every((line) => line.trimStart().startsWith('{'))) return undefined;
  const values: unknown[] = [];
  for (const line of rows) {
    const value = parseJson(line);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    values.push(value);
  }
  return values;
}

/**
 * What the model reads: the result without empty or redundant fields. When the code printed one
 * JSON document or JSON lines, the model gets it as `output` (a value), so TOON can lay rows out as a table
 * instead of repeating every key; structuredContent keeps the raw `stdout` lines either way.
 */
export function modelView(result: RunResult): Record<string, unknown> {
  const view: Record<string, unknown> = { status: result.status, summary: result.summary };
  if (result.exitCode !== 0) view.exitCode = result.exitCode;
  const document = result.truncated ? undefined : jsonDocument(result.stdout);
  if (document !== undefined) view.output = document;
  else if (result.stdout.length > 0) view.stdout = result.stdout;
  if (result.stderr.length > 0) view.stderr = result.stderr;
  if (result.error) view.error = result.error;
  if (result.servers.length > 0) view.servers = result.servers;
  if (result.toolCalls > 0) view.toolCalls = result.toolCalls;
  if (result.truncated) view.truncated = result.truncated;
  // The model must see the id to pass it on, and learn when its session has ended.
  if (result.session) view.session = result.session;
  const follows = attachmentsLine(result);
  if (follows) view.attachments = follows;
  if (result.attachmentsRefused) view.attachmentsRefused = result.attachmentsRefused;
  return view;
}

/** "2 images and 1 file follow": the model learns that content comes after this text, and how much. */
export function attachmentsLine(result: RunResult): string | undefined {
  const images = result.images?.length ?? 0;
  const files = result.exports?.length ?? 0;
  const parts = [
    ...(images > 0 ? [`${images} image${images === 1 ? '' : 's'}`] : []),
    ...(files > 0 ? [`${files} file${files === 1 ? '' : 's'}`] : []),
  ];
  if (parts.length === 0) return undefined;
  return `${parts.join(' and ')} follow${images + files === 1 ? 's' : ''}`;
}

function compactText(result: RunResult): string {
  const parts = [`${result.status}: ${result.summary}`];
  if (result.stdout.length > 0) parts.push(result.stdout.join('\n'));
  if (result.stderr.length > 0) parts.push(`[stderr]\n${result.stderr.join('\n')}`);
  if (result.error?.traceback) parts.push(result.error.traceback.trimEnd());
  else if (result.error && result.status !== 'success') parts.push(`${result.error.type}: ${result.error.message}`);
  const follows = attachmentsLine(result);
  if (follows) parts.push(`[${follows}]`);
  if (result.attachmentsRefused) parts.push(`[not returned: ${result.attachmentsRefused.join('; ')}]`);
  const session = result.session;
  if (session) parts.push(session.state === 'open' ? `[session ${session.id}, open until ${session.expiresAt}]` : `[session ${session.id} ended: ${session.reason}]`);
  return parts.join('\n');
}

/**
 * A cheap stand-in for a BPE token count: words (with their leading space), digit groups of up to
 * three, runs of punctuation, runs of whitespace. Two encodings of the same data share their words,
 * so comparing the two estimates picks the shorter encoding (checked against a real tokenizer in
 * test/unit/render.test.ts), without loading a tokenizer into the daemon.
 */
export function estimateTokens(text: string): number {
  return (text.match(/ ?[A-Za-z]+|\d{1,3}|[^\sA-Za-z\d]+|\s+/g) ?? []).length;
}

/**
 * The text content of a run_python answer. `toon` is a fenced TOON block, unless compact JSON
 * costs fewer tokens or the encoder fails: then it is the compact JSON itself, unfenced.
 */
export function renderResult(result: RunResult, mode: OutputMode): string {
  const view = modelView(result);
  if (mode === 'compact') return compactText(result);
  if (mode === 'json') return JSON.stringify(view, null, 2);
  const json = JSON.stringify(view);
  let toon: string | undefined;
  try {
    toon = '```toon\n' + encode(view) + '\n```';
  } catch {
    return json;
  }
  return estimateTokens(toon) <= estimateTokens(json) ? toon : json;
}
