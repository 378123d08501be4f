import { ENV_VARIABLES } from '@mcp-code-mode/protocol';
import { SHIM_BIN, UsageError, type CliContext } from './context.js';

export const CLIENTS = ['claude-code', 'claude-desktop', 'cursor'] as const;
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

function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

function configPath(client: ClientName, platform: NodeJS.Platform): string {
  if (client === 'cursor') return '~/.cursor/mcp.json (all projects) or .cursor/mcp.json (one project)';
  if (client === 'claude-code') return '.mcp.json in a project';
  if (platform === 'darwin') return '~/Library/Application Support/Claude/claude_desktop_config.json';
  if (platform === 'win32') return '%APPDATA%\\Claude\\claude_desktop_config.json';
  return '~/.config/Claude/claude_desktop_config.json';
}

/** The exact snippet to register the shim: a JSON entry, and for Claude Code its `claude mcp add` line. */
export function clientSnippet(input: SnippetInput): string {
  const entry = { command: input.node, args: [input.shim], ...(Object.keys(input.env).length > 0 ? { env: input.env } : {}) };
  const json = JSON.stringify({ mcpServers: { [SERVER_NAME]: entry } }, null, 2);
  if (input.client === 'claude-code') {
    const envFlags = Object.entries(input.env).map(([k, v]) => `-e ${shellQuote(`${k}=${v}`)} `).join('');
    return [
      '# Register for every project (user scope):',
      `claude mcp add --scope user ${envFlags}${SERVER_NAME} -- ${shellQuote(input.node)} ${shellQuote(input.shim)}`,
      '',
      `# Or, for one project, put this in ${configPath(input.client, input.platform)}:`,
      json,
    ].join('\n');
  }
  return [`# Merge into ${configPath(input.client, input.platform)}, then restart the client:`, json].join('\n');
}

/** `mcp-code-mode client-config claude-code|claude-desktop|cursor`. */
export async function clientConfigCommand(args: string[], ctx: CliContext, node = process.execPath, shim = SHIM_BIN, platform = process.platform): Promise<number> {
  const client = args[0];
  if (!CLIENTS.includes(client as ClientName)) throw new UsageError(`client-config needs one of ${CLIENTS.join(', ')}`);
  ctx.stdout.write(`${clientSnippet({ client: client as ClientName, node, shim, env: bridgeEnvironment(ctx.env), platform })}\n`);
  return 0;
}
