// The state directory layout is shared with the shim (which must find or start the daemon); one definition.
export { statePaths } from '@mcp-code-mode/shim';
export type { StatePaths } from '@mcp-code-mode/shim';
