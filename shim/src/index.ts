// The light part of the shim package: what the CLI and the daemon use to reach (or start) a daemon.
// The MCP server itself is `@mcp-code-mode/shim/server`, loaded only by those who serve MCP.
export { ControlClient, ControlError } from './control-client.js';
export type { RunCall } from './control-client.js';
export { statePaths } from './state-paths.js';
export type { StatePaths } from './state-paths.js';
export { DaemonLauncher, DEFAULT_DAEMON_CLI, EXIT_ALREADY_RUNNING, logTail } from './daemon-launcher.js';
export type { LauncherOptions } from './daemon-launcher.js';
export { pidAlive, readPid } from './pid-file.js';
