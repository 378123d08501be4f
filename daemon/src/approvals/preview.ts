import { createHash } from 'node:crypto';
import { redactText } from '../status.js';

// Keys whose values are never shown, in a question or the audit log (the same words redactText knows).
const SECRET_KEY = /(api[_-]?key|token|secret|password|passwd|authorization|cookie|credential)/i;

function cutValue(value: unknown, maxString: number, depth: number): unknown {
  if (typeof value === 'string') return value.length > maxString ? `${value.slice(0, maxString)}… (${value.length - maxString} more characters)` : value;
  if (value === null || typeof value !== 'object') return value;
  if (depth > 6) return '…';
  if (Array.isArray(value)) return value.map((v) => cutValue(v, maxString, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_KEY.test(k) ? '[redacted]' : cutValue(v, maxString, depth + 1)]));
}

/**
 * Tool arguments as a person (or the audit log) may see them: long strings cut, values under
 * secret-looking keys and secret-looking text masked, the whole capped at `maxChars`.
 */
export function previewArguments(args: unknown, options: { maxString?: number; maxChars?: number } = {}): string {
  const maxChars = options.maxChars ?? 1000;
  const text = redactText(JSON.stringify(cutValue(args ?? {}, options.maxString ?? 200, 0)) ?? 'null');
  return text.length > maxChars ? `${text.slice(0, maxChars)}… (cut at ${maxChars} characters)` : text;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
