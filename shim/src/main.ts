import type { Readable, Writable } from 'node:stream';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { EnvConfigSchema } from '@mcp-code-mode/protocol';
import { ControlClient, DaemonLauncher, statePaths } from '@mcp-code-mode/client';
import { setTimeout as delay } from 'node:timers/promises';
import { IndexSource } from './index-source.js';
import { createShimServer } from './server.js';

export const SHIM_VERSION = '0.1.0';

export interface ShimOptions {
  env: Record<string, string | undefined>;
  stdin?: Readable;
  stdout?: Writable;
  /** Program and arguments that run the daemon in the background; the CLI, which knows where it is, gives them. */
  daemonCommand: string[];
  readyTimeoutMs?: number;
  /** How long the start waits for a running daemon's index, for the instructions (default 1.5 s). */
  startIndexWaitMs?: number;
}

const START_INDEX_WAIT_MS = 1500;

/** A variable as the daemon would read it, or its default when unset or bad (the daemon reports bad ones). */
function setting<T>(schema: { safeParse(value: unknown): { success: true; data: T } | { success: false }; parse(value: unknown): T }, raw: string | undefined): T {
  const parsed = schema.safeParse(raw || undefined);
  return parsed.success ? parsed.data : schema.parse(undefined);
}

/**
 * Serves MCP on stdio until the client closes stdin (or `close()` is called). In-flight runs are
 * aborted on close, which makes the daemon kill their containers.
 */
export async function runShim(options: ShimOptions): Promise<{ closed: Promise<void>; close: () => Promise<void> }> {
  const stdin = options.stdin ?? process.stdin;
  const paths = statePaths(options.env);
  const control = new ControlClient(paths.socket);
  const launcher = new DaemonLauncher({
    paths,
    env: options.env,
    autostart: setting(EnvConfigSchema.shape.MCP_BRIDGE_AUTOSTART, options.env.MCP_BRIDGE_AUTOSTART),
    alive: () => control.alive(),
    command: options.daemonCommand,
    ...(options.readyTimeoutMs ? { readyTimeoutMs: options.readyTimeoutMs } : {}),
  });
  const ensureDaemon = (): Promise<void> => launcher.ensure();
  const timeoutSec = setting(EnvConfigSchema.shape.MCP_BRIDGE_TIMEOUT, options.env.MCP_BRIDGE_TIMEOUT);
  const limits = { timeoutSec, maxTimeoutSec: Math.max(timeoutSec, setting(EnvConfigSchema.shape.MCP_BRIDGE_MAX_TIMEOUT, options.env.MCP_BRIDGE_MAX_TIMEOUT)) };
  const index = new IndexSource({ control, ensureDaemon, limits });
  // The instructions are fixed at initialize: a daemon that already runs gives its index now, within
  // a short wait. No daemon is started for it here (that waits for tools/list), so the shim starts fast.
  await Promise.race([index.refresh({ start: false }), delay(options.startIndexWaitMs ?? START_INDEX_WAIT_MS)]);
  const server = createShimServer({
    control,
    ensureDaemon,
    version: SHIM_VERSION,
    index,
    stubs: control,
    limits,
    structuredContent: setting(EnvConfigSchema.shape.MCP_BRIDGE_STRUCTURED_CONTENT, options.env.MCP_BRIDGE_STRUCTURED_CONTENT),
  });
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  const closing = server.onclose;
  server.onclose = () => {
    closing?.();
    resolveClosed();
  };
  const close = (): Promise<void> => server.close();
  // The SDK's stdio transport does not notice the end of stdin; the client going away ends the shim.
  stdin.once('end', () => void close());
  stdin.once('close', () => void close());
  await server.connect(new StdioServerTransport(stdin, options.stdout ?? process.stdout));
  return { closed, close };
}
