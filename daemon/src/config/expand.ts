import type { ServerConfig } from './schema.js';

// `${VAR}` and `${VAR:-default}` as in Claude Code's .mcp.json, and `${env:VAR}` as in VS Code.
const VARIABLE = /\$\{(?:env:)?([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export type ExpandCheck = { ok: true; config: ServerConfig } | { ok: false; reason: string };

/**
 * Replaces environment references in the fields that reach the server (command, args, env, cwd,
 * url, headers). An unset variable without a default makes the entry unusable: starting the
 * server with a literal "${TOKEN}" would fail later with a far less clear error.
 */
export function expandVariables(config: ServerConfig, env: Record<string, string | undefined>): ExpandCheck {
  const missing = new Set<string>();
  const expand = (text: string): string =>
    text.replace(VARIABLE, (_match, name: string, fallback: string | undefined) => {
      const value = env[name];
      if (value !== undefined && value !== '') return value;
      if (fallback !== undefined) return fallback;
      missing.add(name);
      return '';
    });
  const expandMap = (map: Record<string, string>): Record<string, string> => Object.fromEntries(Object.entries(map).map(([k, v]) => [k, expand(v)]));
  const expanded: ServerConfig =
    config.transport === 'stdio'
      ? {
          ...config,
          command: expand(config.command),
          args: config.args.map(expand),
          env: expandMap(config.env),
          ...(config.cwd !== undefined ? { cwd: expand(config.cwd) } : {}),
        }
      : { ...config, url: expand(config.url), headers: expandMap(config.headers) };
  if (missing.size > 0) {
    return { ok: false, reason: `environment variable${missing.size > 1 ? 's' : ''} ${[...missing].join(', ')} not set (referenced as \${...} without a default)` };
  }
  return { ok: true, config: expanded };
}
