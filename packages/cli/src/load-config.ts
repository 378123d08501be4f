import { parseEnvConfig, type EnvConfig } from '@mcp-code-mode/protocol';
import { UsageError } from './context.js';

/** The MCP_BRIDGE_* configuration of this environment; a bad value is a UsageError naming it. */
export function loadConfig(env: Record<string, string | undefined>): EnvConfig {
  const check = parseEnvConfig(env);
  if (!check.ok) {
    throw new UsageError(`invalid configuration:\n  ${check.problems.join('\n  ')}`);
  }
  return check.config;
}
