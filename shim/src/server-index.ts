// `@mcp-code-mode/shim/server`: the stdio MCP server and its parts.
export { CAPABILITIES_URI, SANDBOX_MANUAL, TOOL_NAME, runPythonTool } from './manual.js';
export { ProgressReporter } from './progress.js';
export type { ProgressUpdate, ProgressOptions } from './progress.js';
export { createShimServer, failureResult, toToolResult } from './server.js';
export type { RunForwarder, ShimDeps } from './server.js';
export { runShim, SHIM_VERSION } from './main.js';
export type { ShimOptions } from './main.js';
