import { CLIENT_INJECTED_FIELDS } from '@mcp-code-mode/protocol';

export interface TimeoutLimits {
  defaultTimeoutSec: number;
  maxTimeoutSec: number;
}

/**
 * The run's timeout: the requested one, or the default, at most MCP_BRIDGE_MAX_TIMEOUT. A lowered
 * value comes with a note for the result's summary, so the model learns the limit instead of
 * wondering why its long run stopped early.
 */
export function clampTimeout(requested: number | undefined, limits: TimeoutLimits): { timeoutSec: number; note?: string } {
  const wanted = requested ?? limits.defaultTimeoutSec;
  const timeoutSec = Math.min(Math.max(wanted, 1), limits.maxTimeoutSec);
  if (requested === undefined || requested <= limits.maxTimeoutSec) return { timeoutSec };
  return { timeoutSec, note: `timeout ${requested} s lowered to the ${timeoutSec} s maximum, MCP_BRIDGE_MAX_TIMEOUT` };
}

/**
 * A note naming the input fields that were ignored, except those clients add on their own (the
 * model did not write them, and telling it on every run would cost tokens for nothing). A
 * misspelt `timout` is named, so the model can fix it.
 */
export function ignoredFieldsNote(fields: readonly string[]): string | undefined {
  const named = fields.filter((field) => !CLIENT_INJECTED_FIELDS.includes(field));
  if (named.length === 0) return undefined;
  return `ignored unknown field${named.length === 1 ? '' : 's'} ${named.join(', ')}`;
}

/** The summary with its notes in one parenthesis: `Success in 3 ms (timeout 500 s lowered ...)`. */
export function annotateSummary(summary: string, notes: readonly (string | undefined)[]): string {
  const kept = notes.filter((note): note is string => note !== undefined && note !== '');
  return kept.length === 0 ? summary : `${summary} (${kept.join('; ')})`;
}
