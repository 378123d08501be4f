// `@mcp-code-mode/shim`: the stdio MCP server that MCP clients launch, and its parts. It reaches the daemon
// through `@mcp-code-mode/client` and never imports the daemon.
export {
  CAPABILITIES_URI,
  DESCRIPTION_LIMIT,
  SANDBOX_MANUAL,
  TOOL_MANUAL,
  TOOL_NAME,
  runInputJsonSchema,
  runPythonTool,
  serverInstructions,
  toolDescription,
} from './manual.js';
export type { ToolOptions } from './manual.js';
export { indexText } from './index-text.js';
export type { IndexState } from './index-text.js';
export { IndexSource } from './index-source.js';
export type { IndexFetcher, IndexSourceOptions } from './index-source.js';
export { ProgressReporter } from './progress.js';
export { serverResources, STUB_MIME_TYPE, stubAlias, stubUri } from './resources.js';
export type { StubFetcher } from './resources.js';
export type { ProgressUpdate, ProgressOptions } from './progress.js';
export { createShimServer, failureResult, toToolResult } from './server.js';
export type { RunForwarder, ShimDeps } from './server.js';
export { runShim, SHIM_VERSION } from './main.js';
export type { ShimOptions } from './main.js';
