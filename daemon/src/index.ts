// `@mcp-code-mode/daemon`: the daemon as a library (tests and embedders). The process itself is
// `@mcp-code-mode/daemon/main`; the CLI's light commands use the `config` and `container` entries.
export { startDaemon } from './daemon.js';
export type { DaemonOptions, RunningDaemon } from './daemon.js';
export { VERSION } from './version.js';
