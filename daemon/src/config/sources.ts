import { isAbsolute, join, resolve } from 'node:path';

/** Everything discovery depends on, passed in so that tests give a fake home and project. */
export interface DiscoveryInputs {
  home: string;
  cwd: string;
  env: Record<string, string | undefined>;
  platform: NodeJS.Platform;
}

/**
 * How servers sit in a file:
 * - `mcpServers`: `{ "mcpServers": { name: entry } }` (Claude Desktop, Claude Code, Cursor, the Python bridge);
 * - `servers`: `{ "servers": { name: entry } }` (VS Code);
 * - `claude-project`: `~/.claude.json`, `projects[<cwd>].mcpServers` (Claude Code's "local" scope);
 * - `claude-user`: `~/.claude.json`, top-level `mcpServers` (Claude Code's "user" scope);
 * - `gemini`: the Gemini CLI's `settings.json`, `mcpServers` with its own entry fields (`httpUrl`);
 * - `codex`: Codex's `config.toml` (TOML), `[mcp_servers.<name>]` tables.
 */
export type SourceFormat = 'mcpServers' | 'servers' | 'claude-project' | 'claude-user' | 'gemini' | 'codex';

/** explicit: MCP_SERVERS_CONFIG; project: files of the working directory; user: files of the home directory. */
export type SourceScope = 'explicit' | 'project' | 'user';

export interface ConfigSource {
  /** A short name for listings ("Claude Code (user)"). */
  label: string;
  scope: SourceScope;
  format: SourceFormat;
  /** A file, or a directory whose `*.json` files are read in name order. */
  path: string;
  directory: boolean;
}

const file = (label: string, scope: SourceScope, format: SourceFormat, path: string): ConfigSource => ({ label, scope, format, path, directory: false });
const dir = (label: string, scope: SourceScope, path: string): ConfigSource => ({ label, scope, format: 'mcpServers', path, directory: true });

/** Claude Desktop keeps its file in a per-platform place; macOS also has the early Claude Code paths. */
function desktopSources(inputs: DiscoveryInputs): ConfigSource[] {
  const { home, platform, env } = inputs;
  if (platform === 'darwin') {
    const support = join(home, 'Library', 'Application Support');
    return [
      file('Claude Code (macOS)', 'user', 'mcpServers', join(support, 'Claude Code', 'claude_code_config.json')),
      file('Claude Code, early builds (macOS)', 'user', 'mcpServers', join(support, 'Claude', 'claude_code_config.json')),
      file('Claude Desktop (macOS)', 'user', 'mcpServers', join(support, 'Claude', 'claude_desktop_config.json')),
    ];
  }
  if (platform === 'win32') {
    const appData = env.APPDATA ?? join(home, 'AppData', 'Roaming');
    return [file('Claude Desktop (Windows)', 'user', 'mcpServers', join(appData, 'Claude', 'claude_desktop_config.json'))];
  }
  const configHome = env.XDG_CONFIG_HOME && isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : join(home, '.config');
  return [file('Claude Desktop (Linux)', 'user', 'mcpServers', join(configHome, 'Claude', 'claude_desktop_config.json'))];
}

/**
 * Every place servers are read from, in precedence order: the first definition of a name wins and
 * later ones are reported as shadowed. The order is explicit file, then the project (most specific
 * first: Claude Code's per-project entries, then the project's shared files), then the user's files.
 * docs/SERVERS.md documents this list; test/unit/discovery.test.ts checks it.
 */
export function configSources(inputs: DiscoveryInputs): ConfigSource[] {
  const { home, cwd, env } = inputs;
  const claudeJson = join(home, '.claude.json');
  const explicit = env.MCP_SERVERS_CONFIG?.trim();
  return [
    ...(explicit ? [file('MCP_SERVERS_CONFIG', 'explicit', 'mcpServers', resolve(cwd, explicit))] : []),
    file('Claude Code (this project)', 'project', 'claude-project', claudeJson),
    file('Claude Code project file', 'project', 'mcpServers', join(cwd, '.mcp.json')),
    dir('MCP servers directory (project)', 'project', join(cwd, 'mcp-servers')),
    file('claude_code_config.json (project)', 'project', 'mcpServers', join(cwd, 'claude_code_config.json')),
    file('claude_desktop_config.json (project)', 'project', 'mcpServers', join(cwd, 'claude_desktop_config.json')),
    file('VS Code (project)', 'project', 'servers', join(cwd, '.vscode', 'mcp.json')),
    file('Cursor (project)', 'project', 'mcpServers', join(cwd, '.cursor', 'mcp.json')),
    file('Gemini CLI (project)', 'project', 'gemini', join(cwd, '.gemini', 'settings.json')),
    file('Claude Code (user)', 'user', 'claude-user', claudeJson),
    dir('MCP servers directory (user)', 'user', join(home, '.config', 'mcp', 'servers')),
    ...desktopSources(inputs),
    file('Cursor (user)', 'user', 'mcpServers', join(home, '.cursor', 'mcp.json')),
    file('Gemini CLI (user)', 'user', 'gemini', join(home, '.gemini', 'settings.json')),
    // Codex reads $CODEX_HOME/config.toml when CODEX_HOME is set. Its project files (.codex/) count
    // only for projects the user trusted in Codex, which the daemon cannot know: not read.
    file('Codex (user)', 'user', 'codex', join(env.CODEX_HOME && isAbsolute(env.CODEX_HOME) ? env.CODEX_HOME : join(home, '.codex'), 'config.toml')),
  ];
}
