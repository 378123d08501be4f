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
/**
 * Node flags of every daemon this installation starts (the shim's autostart, `start`, the login
 * service, `npm start`). A young generation of 1 MiB semi-spaces instead of V8's 16 MiB keeps the
 * idle daemon ~12 MB smaller (docs/BENCHMARKS.md, the runtimes table's RSS row); a run allocates
 * little, and the extra scavenges did not move the paced or back-to-back figures.
 */
export const DAEMON_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1'];

/** How this installation starts its daemon: node, its flags, the CLI, `daemon`, then `extra`. */
export function daemonCommandLine(...extra: string[]): string[] {
  return [process.execPath, ...DAEMON_NODE_FLAGS, CLI_BIN, 'daemon', ...extra];
}

/** The shim bin (`mcp-code-mode-shim`) of this installation: what MCP clients launch. */
export const SHIM_BIN = fileURLToPath(new URL('../bin/mcp-code-mode-shim.js', import.meta.url));
