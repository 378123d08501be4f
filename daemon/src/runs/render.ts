import { encode } from '@toon-format/toon';
import type { OutputMode, RunResult } from '@mcp-code-mode/protocol';

/** What the model reads: the result without empty or redundant fields. */
export function modelView(result: RunResult): Record<string, unknown> {
  const view: Record<string, unknown> = { status: result.status, summary: result.summary };
  if (result.exitCode !== 0) view.exitCode = result.exitCode;
  if (result.stdout.length > 0) view.stdout = result.stdout;
  if (result.stderr.length > 0) view.stderr = result.stderr;
  if (result.error) view.error = result.error;
  if (result.servers.length > 0) view.servers = result.servers;
  if (result.toolCalls > 0) view.toolCalls = result.toolCalls;
  if (result.truncated) view.truncated = result.truncated;
  return view;
}

function compactText(result: RunResult): string {
  const parts = [`${result.status}: ${result.summary}`];
  if (result.stdout.length > 0) parts.push(result.stdout.join('\n'));
  if (result.stderr.length > 0) parts.push(`[stderr]\n${result.stderr.join('\n')}`);
  if (result.error?.traceback) parts.push(result.error.traceback.trimEnd());
  else if (result.error && result.status !== 'success') parts.push(`${result.error.type}: ${result.error.message}`);
  return parts.join('\n');
}

/**
 * The text content of a run_python answer. `toon` wraps TOON in a fenced block, unless compact
 * JSON is shorter or the encoder fails, in which case compact JSON is sent (also fenced).
 */
export function renderResult(result: RunResult, mode: OutputMode): string {
  const view = modelView(result);
  if (mode === 'compact') return compactText(result);
  const json = JSON.stringify(view);
  if (mode === 'json') return JSON.stringify(view, null, 2);
  let toon: string | undefined;
  try {
    toon = encode(view);
  } catch {
    toon = undefined;
  }
  if (toon === undefined || json.length < toon.length) return '```json\n' + json + '\n```';
  return '```toon\n' + toon + '\n```';
}
