// `@mcp-code-mode/daemon/bwrap`: whether the bwrap runtime can run here, for the CLI's `doctor`.
export { BwrapUnusableError, probeBwrap } from './probe.js';
