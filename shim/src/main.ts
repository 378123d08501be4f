import type { Readable, Writable } from 'node:stream';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { EnvConfigSchema } from '@mcp-code-mode/protocol';
import { ControlClient, DaemonLauncher, statePaths } from '@mcp-code-mode/client';
import { createShimServer } from './server.js';

export const SHIM_VERSION = '0.1.0';

export interface ShimOptions {
  env: Record<string, string | undefined>;
  stdin?: Readable;
  stdout?: Writable;
  /** Program and arguments that run the daemon in the background; the CLI, which knows where it is, gives them. */
  daemonCommand: string[];
  readyTimeoutMs?: number;
}

/**
 * Serves MCP on stdio until the client closes stdin (or `close()` is called). In-flight runs are
 * aborted on close, which makes the daemon kill their containers.
 */
export async function runShim(options: ShimOptions): Promise<{ closed: Promise<void>; close: () => Promise<void> }> {
  const stdin = options.stdin ?? process.stdin;
  const paths = statePaths(options.env);
  const autostart = EnvConfigSchema.shape.MCP_BRIDGE_AUTOSTART.safeParse(options.env.MCP_BRIDGE_AUTOSTART || undefined);
  const control = new ControlClient(paths.socket);
  const launcher = new DaemonLauncher({
    paths,
    env: options.env,
    autostart: autostart.success ? autostart.data : true,
    alive: () => control.alive(),
    command: options.daemonCommand,
    ...(options.readyTimeoutMs ? { readyTimeoutMs: options.readyTimeoutMs } : {}),
  });
  const server = createShimServer({ control, ensureDaemon: () => launcher.ensure(), version: SHIM_VERSION });
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  server.onclose = () => resolveClosed();
  const close = (): Promise<void> => server.close();
  // The SDK's stdio transport does not notice the end of stdin; the client going away ends the shim.
  stdin.once('end', () => void close());
  stdin.once('close', () => void close());
  await server.connect(new StdioServerTransport(stdin, options.stdout ?? process.stdout));
  return { closed, close };
}
