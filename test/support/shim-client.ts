import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { fileURLToPath } from 'node:url';
import type { RunResult } from '@mcp-code-mode/protocol';

export const SHIM_BIN = fileURLToPath(new URL('../../packages/cli/bin/mcp-code-mode-shim.js', import.meta.url));

export interface ShimClient {
  client: Client;
  stderr: () => string;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * The SDK's own Client, over stdio, against a shim process launched as an MCP client would launch it.
 * Structured content is on (callRun reads the result value from it) unless `env` sets
 * MCP_BRIDGE_STRUCTURED_CONTENT, e.g. to '' for the default a real client gets.
 */
export async function connectShim(
  env: NodeJS.ProcessEnv,
  command: string[] = [process.execPath, SHIM_BIN],
  clientOptions: ConstructorParameters<typeof Client>[1] = {},
): Promise<ShimClient> {
  const transport = new StdioClientTransport({
    command: command[0]!,
    args: command.slice(1),
    env: { MCP_BRIDGE_STRUCTURED_CONTENT: '1', ...env } as Record<string, string>,
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const client = new Client({ name: 'mcp-code-mode-tests', version: '0.0.0' }, clientOptions);
  await client.connect(transport);
  return {
    client,
    stderr: () => stderr,
    async [Symbol.asyncDispose]() {
      await client.close();
    },
  };
}

/** The structured result of a run_python call. */
export interface CallOutcome {
  isError: boolean;
  text: string;
  result: { status: string; stdout: string[]; stderr: string[]; error?: { type: string; message: string }; summary: string };
}

export async function callRun(client: Client, args: Record<string, unknown>, options: Parameters<Client['callTool']>[2] = {}): Promise<CallOutcome> {
  const r = (await client.callTool({ name: 'run_python', arguments: args }, undefined, options)) as {
    isError?: boolean;
    content: { type: string; text?: string }[];
    structuredContent?: CallOutcome['result'];
  };
  return { isError: r.isError === true, text: r.content.map((c) => c.text ?? '').join('\n'), result: r.structuredContent! };
}

/** A run_python caller for a daemon's tests: the SDK Client and a shim of its own (autostart off). */
export interface RunClient {
  /** One run_python call; the result as the client sees it (structuredContent), and its text. */
  run(args: { code: string; session?: string; servers?: string[]; timeout?: number }): Promise<RunResult & { text: string }>;
  close(): Promise<void>;
}

export async function runClient(daemon: { env: NodeJS.ProcessEnv }, _name = 'tests'): Promise<RunClient> {
  const env = Object.fromEntries(Object.entries({ ...daemon.env, MCP_BRIDGE_AUTOSTART: '0' }).filter((e): e is [string, string] => e[1] !== undefined));
  const shim = await connectShim(env);
  return {
    async run(args) {
      const answer = await shim.client.callTool({ name: 'run_python', arguments: args }, undefined, { timeout: 180_000 });
      const content = answer.content as { type: string; text?: string }[];
      return { ...(answer.structuredContent as unknown as RunResult), text: content[0]?.text ?? '' };
    },
    close: () => shim.client.close(),
  };
}

/** The session id a run result carries, when its session is open. */
export function openSessionId(result: RunResult): string {
  if (result.session?.state !== 'open') throw new Error(`expected an open session, got ${JSON.stringify(result)}`);
  return result.session.id;
}
