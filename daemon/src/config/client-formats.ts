import { parse as parseToml } from 'smol-toml';

/**
 * Entries of the clients whose config does not use the Claude/Cursor entry shape, turned into that
 * shape so the one entry parser (schema.ts) checks them. Unknown fields pass through and are
 * ignored there; fields of the wrong type are left as they are so that the parser names them.
 */

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The Gemini CLI (`~/.gemini/settings.json`, `.gemini/settings.json`): `httpUrl` is Streamable
 * HTTP and a bare `url` is SSE (its documented meaning, unlike Cursor's), and wins over `url`.
 * A `type` given beside `url` is kept.
 */
export function fromGeminiEntry(raw: unknown): unknown {
  if (!isObject(raw)) return raw;
  const { httpUrl, ...rest } = raw;
  // With both, the Gemini CLI takes httpUrl.
  if (httpUrl !== undefined) return { ...rest, url: httpUrl, type: 'http' };
  if (rest.url !== undefined && rest.type === undefined && rest.command === undefined) return { ...rest, type: 'sse' };
  return rest;
}

/**
 * Codex (`~/.codex/config.toml`, `[mcp_servers.<name>]`): `url` is Streamable HTTP, headers come
 * from `http_headers`, `env_http_headers` (header to variable name) and `bearer_token_env_var`,
 * which become `${VAR}` references so that the usual expansion (and its "not set" report) applies.
 * `enabled = false` is our `disabled`.
 */
export function fromCodexEntry(raw: unknown): unknown {
  if (!isObject(raw)) return raw;
  const { enabled, http_headers, env_http_headers, bearer_token_env_var, ...rest } = raw;
  const entry: Record<string, unknown> = { ...rest };
  if (enabled === false) entry.disabled = true;
  if (rest.url !== undefined) {
    const headers: Record<string, unknown> = isObject(http_headers) ? { ...http_headers } : {};
    if (isObject(env_http_headers)) for (const [header, variable] of Object.entries(env_http_headers)) headers[header] = `\${${String(variable)}}`;
    if (typeof bearer_token_env_var === 'string' && bearer_token_env_var !== '') headers.Authorization = `Bearer \${${bearer_token_env_var}}`;
    entry.type = 'http';
    entry.headers = headers;
  }
  return entry;
}

/** A Codex config.toml as a value, or what is wrong and where (smol-toml gives line and column). */
export function parseCodexToml(text: string): { ok: true; value: unknown } | { ok: false; message: string } {
  try {
    return { ok: true, value: parseToml(text) };
  } catch (err) {
    const { message, line, column } = err as Error & { line?: number; column?: number };
    const where = line !== undefined ? ` (line ${line}, column ${column ?? '?'})` : '';
    return { ok: false, message: `not valid TOML: ${message.split('\n')[0]!.replace(/^Invalid TOML document: /, '')}${where}` };
  }
}
