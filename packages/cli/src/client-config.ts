import { quote } from 'shell-quote';
import { stringify as toToml } from 'smol-toml';
import { ENV_VARIABLES, EnvConfigSchema } from '@mcp-code-mode/protocol';
import { SHIM_BIN, UsageError, type CliContext } from './context.js';

export const CLIENTS = ['claude-code', 'claude-desktop', 'cursor', 'vscode', 'gemini', 'codex'] as const;
export type ClientName = (typeof CLIENTS)[number];

/** The server name the shim is registered under in every client. */
export const SERVER_NAME = 'mcp-code-mode';

export interface SnippetInput {
  client: ClientName;
  /** Absolute: GUI clients (Claude Desktop) do not see the shell's PATH. */
  node: string;
  shim: string;
  /** MCP_BRIDGE_* settings of the current shell, so the shim finds (or starts) the same daemon. */
  env: Record<string, string>;
  platform: NodeJS.Platform;
}

/** Only the MCP_BRIDGE_* variables that are set: the client starts the shim with these. */
export function bridgeEnvironment(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(ENV_VARIABLES.flatMap((name) => (env[name] ? [[name, env[name]!]] : [])));
}

function desktopPath(platform: NodeJS.Platform): string {
  if (platform === 'darwin') return '~/Library/Application Support/Claude/claude_desktop_config.json';
  if (platform === 'win32') return '%APPDATA%\\Claude\\claude_desktop_config.json';
  return '~/.config/Claude/claude_desktop_config.json';
}

/**
 * Seconds a client should wait for one run_python call: the longest run (MCP_BRIDGE_MAX_TIMEOUT)
 * plus time for a cold start. Codex gives up on a tool call after 60 s by default.
 */
function toolTimeoutSec(env: Record<string, string>): number {
  const parsed = EnvConfigSchema.shape.MCP_BRIDGE_MAX_TIMEOUT.safeParse(env.MCP_BRIDGE_MAX_TIMEOUT || undefined);
  return (parsed.success ? parsed.data : 120) + 30;
}

/**
 * `claude mcp add`: the name comes before `-e`, because `-e` takes any number of values and would
 * swallow a name after it ("Invalid environment variable format: mcp-code-mode").
 */
function claudeCommand(input: SnippetInput): string {
  const envFlags = Object.entries(input.env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
  return quote(['claude', 'mcp', 'add', '--scope', 'user', SERVER_NAME, ...envFlags, '--', input.node, input.shim]);
}

/** The exact snippet to register the shim in one client, with how to use it. */
export function clientSnippet(input: SnippetInput): string {
  const hasEnv = Object.keys(input.env).length > 0;
  const entry = { command: input.node, args: [input.shim], ...(hasEnv ? { env: input.env } : {}) };
  const mcpServers = JSON.stringify({ mcpServers: { [SERVER_NAME]: entry } }, null, 2);
  switch (input.client) {
    case 'claude-code':
      return ['# Register for every project (user scope):', claudeCommand(input), '', '# Or, for one project, put this in .mcp.json at its root:', mcpServers].join('\n');
    case 'claude-desktop':
      return [`# Merge into ${desktopPath(input.platform)}, then restart Claude Desktop:`, mcpServers].join('\n');
    case 'cursor':
      return ['# Merge into ~/.cursor/mcp.json (all projects) or .cursor/mcp.json (one project):', mcpServers].join('\n');
    case 'vscode':
      return [
        '# Merge into .vscode/mcp.json (one workspace), or run "MCP: Open User Configuration" for every workspace:',
        JSON.stringify({ servers: { [SERVER_NAME]: { type: 'stdio', ...entry } } }, null, 2),
      ].join('\n');
    case 'gemini':
      return [
        '# Merge into ~/.gemini/settings.json (every project) or .gemini/settings.json (one project):',
        JSON.stringify({ mcpServers: { [SERVER_NAME]: { ...entry, timeout: toolTimeoutSec(input.env) * 1000 } } }, null, 2),
      ].join('\n');
    case 'codex':
      return [
        '# Add to ~/.codex/config.toml:',
        toToml({ mcp_servers: { [SERVER_NAME]: { ...entry, tool_timeout_sec: toolTimeoutSec(input.env) } } }),
      ].join('\n');
  }
}

/** `mcp-code-mode client-config <client>`. */
export async function clientConfigCommand(args: string[], ctx: CliContext, node = process.execPath, shim = SHIM_BIN, platform = process.platform): Promise<number> {
  const client = args[0];
  if (!CLIENTS.includes(client as ClientName)) throw new UsageError(`client-config needs one of ${CLIENTS.join(', ')}`);
  ctx.stdout.write(`${clientSnippet({ client: client as ClientName, node, shim, env: bridgeEnvironment(ctx.env), platform })}\n`);
  return 0;
}
