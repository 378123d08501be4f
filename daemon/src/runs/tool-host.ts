import type { RpcErrorCode, ServerInfo } from '@mcp-code-mode/protocol';

/**
 * An error that the sandbox sees as `MCPError(code, message)`; never crashes a run. Its code is
 * one of protocol's catalogue, so a new code cannot reach the sandbox without being listed there.
 */
export class RpcFailure extends Error {
  constructor(readonly code: RpcErrorCode, message: string) {
    super(message);
    this.name = 'RpcFailure';
  }
}

export interface RpcContext {
  /** The run's allowlist, fixed by the daemon; the sandbox cannot widen it. */
  allowed: ReadonlySet<string>;
  signal: AbortSignal;
  timeoutMs?: number;
}

/** One configured MCP server as /status shows it: never its env values or headers. */
export interface ServerStatus {
  name: string;
  transport: 'stdio' | 'http' | 'sse';
  /** The config file it came from. */
  source: string;
  state: 'idle' | 'connecting' | 'connected' | 'failed';
  tools?: number;
  lastError?: string;
}

/** A config file or entry that could not be used, and why. */
export interface ConfigProblem {
  path: string;
  message: string;
}

/** A config entry left out on purpose (shadowed by an earlier source, disabled, launches the bridge itself). */
export interface SkippedServer {
  name: string;
  path: string;
  reason: string;
}

/** What `POST /v1/reload` answers: whether the new configuration was taken, and why not. */
export interface ReloadResult {
  applied: boolean;
  message: string;
  servers: string[];
  problems: ConfigProblem[];
}

/** What a run needs from the MCP side: server metadata for the proxies, and the RPC methods. */
export interface ToolHost {
  /** Names of every configured server (for `runtime.discovered_servers()`). */
  discovered(): string[];
  /** Metadata (with tool lists) of the requested servers; throws RpcFailure naming an unknown one. */
  describe(servers: string[], signal: AbortSignal): Promise<ServerInfo[]>;
  /** One RPC from the sandbox; resolves with the result or throws RpcFailure. */
  handle(method: string, params: Record<string, unknown>, ctx: RpcContext): Promise<unknown>;
  /** Servers and config problems, for /v1/servers and /status. */
  status(): { servers: ServerStatus[]; problems: ConfigProblem[]; skipped?: SkippedServer[] };
  /** Re-reads the configuration (POST /v1/reload); absent when the host has no config source. */
  reload?(): Promise<ReloadResult>;
  /** Closes every upstream connection (daemon shutdown). */
  close(): Promise<void>;
}

/** The host when no MCP server is configured. */
export class EmptyToolHost implements ToolHost {
  discovered(): string[] {
    return [];
  }

  async describe(servers: string[]): Promise<ServerInfo[]> {
    if (servers.length > 0) throw new RpcFailure('unknown_server', `unknown MCP server ${JSON.stringify(servers[0])}: no MCP servers are configured`);
    return [];
  }

  async handle(method: string, _params?: Record<string, unknown>, _ctx?: RpcContext): Promise<unknown> {
    if (method === 'list_servers') return [];
    throw new RpcFailure('unknown_method', `no MCP servers are configured, so ${method} has nothing to call`);
  }

  status(): { servers: ServerStatus[]; problems: ConfigProblem[] } {
    return { servers: [], problems: [] };
  }

  async close(): Promise<void> {}
}
