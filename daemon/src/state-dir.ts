// The state directory layout is shared with the shim and the CLI (which must find or start the daemon); one definition.
export { statePaths } from '@mcp-code-mode/client';
export type { StatePaths } from '@mcp-code-mode/client';
