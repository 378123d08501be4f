// Loaded on demand by `mcp-code-mode shim`, so that the other commands never load the MCP server.
import { runShim } from '@mcp-code-mode/shim';
import { daemonCommandLine } from './context.js';

/** `mcp-code-mode shim`: the stdio MCP server, until the client closes stdin or a signal arrives. */
export async function shimCommand(env: Record<string, string | undefined>, onSignal: (stop: () => void) => void): Promise<number> {
  const shim = await runShim({ env, daemonCommand: daemonCommandLine('--background') });
  onSignal(() => void shim.close());
  await shim.closed;
  return 0;
}
