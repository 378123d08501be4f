import type { ConfigProblemInfo, ReloadResult, ServerInfo, ServerStatusInfo, SkippedServerInfo } from '@mcp-code-mode/protocol';
import { RpcFailure, type RpcContext } from './rpc-failure.js';

/** One configured MCP server as the tool host knows it (`transport` and `state` narrowed; /status keeps them open). */
export interface ServerStatus extends ServerStatusInfo {
  transport: 'stdio' | 'http' | 'sse';
  state: 'idle' | 'connecting' | 'connected' | 'failed';
}

/**
 * What runs need from the MCP side: server metadata for the proxies, and the RPC methods. Defined
 * here, by the RPC layer that forwards to it; upstreams/ implements it.
 */
export interface ToolHost {
  /** Names of every configured server (for `runtime.discovered_servers()`). */
  discovered(): string[];
  /** Metadata (with tool lists) of the requested servers; throws RpcFailure naming an unknown one. */
  describe(servers: string[], signal: AbortSignal): Promise<ServerInfo[]>;
  /**
   * A tool of an allowed server by its name or alias: its own name, and whether its annotations say
   * `readOnlyHint: true` (the approval policy asks for the rest). Throws RpcFailure like a call would.
   */
  tool?(server: string, tool: string, ctx: RpcContext): Promise<{ name: string; readOnly: boolean }>;
  /** One RPC from the sandbox; resolves with the result or throws RpcFailure. */
  handle(method: string, params: Record<string, unknown>, ctx: RpcContext): Promise<unknown>;
  /** Servers and config problems, for /v1/servers and /status. */
  status(): { servers: ServerStatus[]; problems: ConfigProblemInfo[]; skipped?: SkippedServerInfo[] };
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

  status(): { servers: ServerStatus[]; problems: ConfigProblemInfo[] } {
    return { servers: [], problems: [] };
  }

  async close(): Promise<void> {}
}
