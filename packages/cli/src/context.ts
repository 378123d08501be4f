import { fileURLToPath } from 'node:url';

/** What a CLI command gets from main.ts, the only module that reads env, argv and signals. */
export interface CliContext {
  env: Record<string, string | undefined>;
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/** Thrown for a wrong command line or setting; main.ts prints it and exits with 2. */
export class UsageError extends Error {}

/** The daemon CLI (`mcp-code-mode`) of this installation. */
export const CLI_BIN = fileURLToPath(new URL('../bin/mcp-code-mode.js', import.meta.url));
/** The shim bin (`mcp-code-mode-shim`) of this installation: what MCP clients launch. */
export const SHIM_BIN = fileURLToPath(new URL('../bin/mcp-code-mode-shim.js', import.meta.url));
