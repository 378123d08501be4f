import type { ServerConfig } from './schema.js';

// The names under which this bridge (its CLI and its shim) or its Python predecessor is launched.
const OURS = new Set(['mcp-code-mode', 'mcp-code-mode-shim']);
const PREDECESSOR = new Set(['mcp-server-code-execution-mode', 'mcp_server_code_execution_mode']);

/** `/x/bin/mcp-code-mode-shim.js` -> `mcp-code-mode-shim`; `@mcp-code-mode/shim@1.2` -> `@mcp-code-mode/shim`. */
function baseName(token: string): string {
  const last = token.split(/[\\/]/).pop() ?? token;
  return last.replace(/@[^@]*$/, '').replace(/\.(c|m)?js$|\.py$/i, '').toLowerCase();
}

/**
 * Why this entry would launch a code-execution bridge instead of a tool server, or undefined.
 * Loading it would put run_python inside run_python: a loop for ourselves, nested sandboxes for
 * the Python bridge (whose guide registers it in ~/.config/mcp/servers/, a path we read).
 * Tokens are compared by base name so that a checkout directory called mcp-code-mode holding
 * some other server is not mistaken for the bridge.
 */
export function selfLaunchReason(config: ServerConfig): string | undefined {
  if (config.transport !== 'stdio') return undefined;
  for (const token of [config.command, ...config.args]) {
    if (token.toLowerCase().startsWith('@mcp-code-mode/')) return 'it launches mcp-code-mode itself';
    const base = baseName(token);
    if (OURS.has(base)) return 'it launches mcp-code-mode itself';
    if (PREDECESSOR.has(base)) return 'it launches the Python code-execution bridge, which would nest a sandbox inside the sandbox';
  }
  return undefined;
}
