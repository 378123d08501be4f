// `@mcp-code-mode/daemon/config`: where MCP servers are found, for the CLI's `servers` and `doctor`.
export { discoverServers } from './discover.js';
export type { DiscoveryReport } from './discover.js';
export { formatReport, publicReport } from './format-report.js';
export type { DiscoveryInputs } from './sources.js';
