// `@mcp-code-mode/client`: how the shim and the CLI reach, or start, a daemon. The daemon uses the
// state paths and the pid file too. No MCP, no engine: light enough for every command.
export { ControlClient, ControlError } from './control-client.js';
export type { RequestOptions, RunCall } from './control-client.js';
export { statePaths } from './state-paths.js';
export type { StatePaths } from './state-paths.js';
export { DaemonLauncher, EXIT_ALREADY_RUNNING, lockHolderAlive, logTail } from './daemon-launcher.js';
export type { LauncherOptions } from './daemon-launcher.js';
export { pidAlive, readPid } from './pid-file.js';
export { linkedSignal } from './linked-signal.js';
export type { LinkedSignal } from './linked-signal.js';
