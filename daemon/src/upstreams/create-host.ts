import type { Logger } from 'pino';
import { discoverServers, type ConfigFileSystem, type DiscoveryReport } from '../config/discover.js';
import type { DiscoveryInputs } from '../config/sources.js';
import { McpToolHost } from './mcp-tool-host.js';

export interface CreateHostOptions {
  inputs: DiscoveryInputs;
  log: Logger;
  fs?: ConfigFileSystem;
  callTimeoutMs?: number;
}

/** Logs what discovery found, in the shape the Python bridge's users look for ("Loaded MCP servers: ..."). */
export function logReport(log: Logger, report: DiscoveryReport): void {
  const names = report.servers.map((s) => s.name);
  log.info({ servers: names }, names.length > 0 ? `Loaded MCP servers: ${names.join(', ')}` : 'no MCP servers configured');
  for (const skipped of report.skipped) log.info({ server: skipped.name, path: skipped.origin.path }, `MCP server ${skipped.name} not loaded: ${skipped.reason}`);
  for (const problem of report.problems) log.warn({ path: problem.path, server: problem.name }, `MCP config problem: ${problem.message}`);
}

/** Discovers the configured servers and builds the host that serves them; reload discovers again with the same inputs. */
export async function createMcpToolHost(options: CreateHostOptions): Promise<McpToolHost> {
  const discover = async (): Promise<DiscoveryReport> => {
    const report = await discoverServers(options.inputs, options.fs);
    logReport(options.log, report);
    return report;
  };
  return new McpToolHost({
    report: await discover(),
    log: options.log,
    rediscover: discover,
    ...(options.callTimeoutMs !== undefined ? { callTimeoutMs: options.callTimeoutMs } : {}),
  });
}
