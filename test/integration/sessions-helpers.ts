// Helpers of the sessions tests: a real MCP client (the SDK's Client) talking to the shim over stdio.
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { RunResult } from '@mcp-code-mode/protocol';
import type { DaemonHandle } from '../helpers/daemon-process.ts';

export const SHIM = fileURLToPath(new URL('../../packages/cli/bin/mcp-code-mode-shim.js', import.meta.url));

export interface ShimClient {
  /** One run_python call; the result as the client sees it (structuredContent), and its text. */
  run(args: { code: string; session?: string; servers?: string[]; timeout?: number }): Promise<RunResult & { text: string }>;
  close(): Promise<void>;
}

/** A new MCP client process pair: the SDK Client, and a shim of its own launched over stdio. */
export async function shimClient(daemon: DaemonHandle, name = 'sessions-test'): Promise<ShimClient> {
  // Structured content on: these tests read the result value.
  const env = Object.fromEntries(Object.entries({ ...daemon.env, MCP_BRIDGE_AUTOSTART: '0', MCP_BRIDGE_STRUCTURED_CONTENT: '1' }).filter((e): e is [string, string] => e[1] !== undefined));
  const transport = new StdioClientTransport({ command: process.execPath, args: [SHIM], env, stderr: 'pipe' });
  const client = new Client({ name, version: '1.0.0' });
  await client.connect(transport);
  return {
    async run(args) {
      const answer = await client.callTool({ name: 'run_python', arguments: args }, undefined, { timeout: 180_000 });
      const content = answer.content as { type: string; text?: string }[];
      return { ...(answer.structuredContent as unknown as RunResult), text: content[0]?.text ?? '' };
    },
    close: () => client.close(),
  };
}

/** The session id a run result carries, when its session is open. */
export function openSessionId(result: RunResult): string {
  if (result.session?.state !== 'open') throw new Error(`expected an open session, got ${JSON.stringify(result)}`);
  return result.session.id;
}
