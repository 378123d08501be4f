import type { Logger } from 'pino';
import type { DiscoveredServer, DiscoveryProblem, DiscoveryReport } from '../config/discover.js';
import type { ConfigProblemInfo as ConfigProblem, ReloadResult, SkippedServerInfo as SkippedServer } from '@mcp-code-mode/protocol';
import { RpcFailure } from '../rpc/rpc-failure.js';
import type { ServerStatus } from '../rpc/tool-host.js';
import { UpstreamConnection } from './connection.js';

export type ConnectionFactory = (server: DiscoveredServer, log: Logger) => UpstreamConnection;

export const defaultConnectionFactory: ConnectionFactory = (server, log) => new UpstreamConnection({ name: server.name, config: server.config, log });


function problemKey(p: DiscoveryProblem): string {
  return `${p.path}\0${p.name ?? ''}\0${p.message}`;
}

export function toConfigProblem(p: DiscoveryProblem): ConfigProblem {
  return { path: p.path, message: p.message };
}

/**
 * The configured servers and their connections, created on first use. A reload swaps the
 * configuration and closes only the connections whose entry changed or went away, so runs using
 * the other servers are not disturbed.
 */
export class ServerRegistry {
  private report: DiscoveryReport;
  private readonly connections = new Map<string, UpstreamConnection>();
  private closed = false;

  constructor(
    report: DiscoveryReport,
    private readonly log: Logger,
    private readonly factory: ConnectionFactory = defaultConnectionFactory,
  ) {
    this.report = report;
  }

  names(): string[] {
    return this.report.servers.map((s) => s.name);
  }

  has(name: string): boolean {
    return this.report.servers.some((s) => s.name === name);
  }

  entry(name: string): DiscoveredServer | undefined {
    return this.report.servers.find((s) => s.name === name);
  }

  /** The connection of a configured server; RpcFailure naming the known ones otherwise. */
  connection(name: string): UpstreamConnection {
    const existing = this.connections.get(name);
    if (existing) return existing;
    const server = this.entry(name);
    if (!server) {
      const known = this.names();
      throw new RpcFailure(
        'unknown_server',
        `unknown MCP server ${JSON.stringify(name)}; configured servers: ${known.length > 0 ? known.join(', ') : 'none'} (see \`mcp-code-mode servers\`)`,
      );
    }
    if (this.closed) throw new RpcFailure('server_unavailable', 'the daemon is shutting down');
    const connection = this.factory(server, this.log);
    this.connections.set(name, connection);
    return connection;
  }

  status(): { servers: ServerStatus[]; problems: ConfigProblem[]; skipped: SkippedServer[] } {
    return {
      servers: this.report.servers.map((server) => {
        const connection = this.connections.get(server.name);
        const tools = connection?.toolCount;
        const lastError = connection?.lastError;
        return {
          name: server.name,
          transport: server.config.transport,
          source: server.origin.section ? `${server.origin.path} ${server.origin.section}` : server.origin.path,
          state: connection?.state ?? 'idle',
          ...(tools !== undefined ? { tools } : {}),
          ...(lastError !== undefined ? { lastError } : {}),
        };
      }),
      problems: this.report.problems.map(toConfigProblem),
      skipped: this.report.skipped.map((s) => ({ name: s.name, path: s.origin.path, reason: s.reason })),
    };
  }

  /**
   * Applies a fresh discovery unless it brings a problem the current configuration does not have:
   * a config file broken while being edited must not take its servers away from running clients.
   */
  async apply(next: DiscoveryReport): Promise<ReloadResult> {
    const known = new Set(this.report.problems.map(problemKey));
    const fresh = next.problems.filter((p) => !known.has(problemKey(p)));
    if (fresh.length > 0) {
      return {
        applied: false,
        message: `kept the current servers: the new configuration has ${fresh.length} problem${fresh.length === 1 ? '' : 's'}`,
        servers: this.names(),
        problems: fresh.map(toConfigProblem),
      };
    }
    const stale: UpstreamConnection[] = [];
    for (const [name, connection] of this.connections) {
      const updated = next.servers.find((s) => s.name === name);
      if (!updated || JSON.stringify(updated.config) !== JSON.stringify(connection.config)) {
        stale.push(connection);
        this.connections.delete(name);
      }
    }
    this.report = next;
    await Promise.all(stale.map((c) => c.close()));
    this.log.info({ servers: this.names(), restarted: stale.map((c) => c.name) }, 'MCP server configuration reloaded');
    return { applied: true, message: `loaded ${next.servers.length} server${next.servers.length === 1 ? '' : 's'}`, servers: this.names(), problems: next.problems.map(toConfigProblem) };
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.connections.values()];
    this.connections.clear();
    await Promise.all(all.map((c) => c.close()));
  }
}
