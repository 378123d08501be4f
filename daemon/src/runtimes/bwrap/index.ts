// `@mcp-code-mode/daemon/bwrap`: whether the bwrap runtime can run here, and what root fs it has, for the CLI's `doctor`.
export { BwrapUnusableError, probeBwrap } from './probe.js';
export { bwrapCacheDir, unpackedRootfs } from './rootfs.js';
