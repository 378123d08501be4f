// The only module that reads process.env, argv and signals. Each command's module is imported only
// when that command runs, so that `run`, `status` or `--version` do not load the engine, the MCP SDK
// and the daemon.
import { homedir } from 'node:os';
import { ControlError } from '@mcp-code-mode/client';
import type { DiscoveryInputs } from '@mcp-code-mode/daemon/config';
import { UsageError, type CliContext } from './context.js';
import { VERSION } from './version.js';

const USAGE = `mcp-code-mode ${VERSION}: run Python in warm, locked-down containers, with your MCP servers as async functions.

Usage:
  mcp-code-mode daemon [--background]       run the daemon in the foreground (--background: log to the file only)
  mcp-code-mode start                       start the daemon in the background and wait until it answers
  mcp-code-mode shim                        the stdio MCP server that MCP clients launch (also: mcp-code-mode-shim)
  mcp-code-mode logs [-n N] [-f] [--json]   show (or follow) the daemon log
  mcp-code-mode audit [--since 2h|DATE] [--json]
                                            the runs and tool calls of the audit log, with approval decisions
  mcp-code-mode doctor [--json]             check engine, image, state directory, socket and MCP config, with fixes
  mcp-code-mode service install|uninstall   start the daemon at login (systemd user unit / launchd agent)
  mcp-code-mode client-config claude-code|claude-desktop|cursor|vscode|gemini|codex
                                            print the snippet that registers the shim in that client
  mcp-code-mode run [-c CODE | FILE | -] [--timeout N] [--servers a,b] [--session new|ID] [--json] [--output-mode toon|json|compact] [--out DIR]
                                            send one run to the daemon and print its result (--session: keep state across runs)
  mcp-code-mode sessions list [--json]      the open sessions, with their ids
  mcp-code-mode sessions end ID             end a session; its container is removed
  mcp-code-mode status [--json]             show the daemon's pool, servers, runs and engine
  mcp-code-mode servers [--json]            list the MCP servers found in the config files, from where, and the problems
  mcp-code-mode stop                        stop the daemon (its containers are removed)
  mcp-code-mode image ensure                make the sandbox image present (MCP_BRIDGE_IMAGE / _PROFILE: pull or build)
  mcp-code-mode image build [--profile P]   build the sandbox image (base|data) offline from Debian packages
  mcp-code-mode --version

Configuration is by MCP_BRIDGE_* environment variables; see docs/CONFIG.md.`;

/** Where MCP server configs are looked for: this process's home, directory and environment. */
function discoveryInputs(): DiscoveryInputs {
  return { home: process.env.HOME || homedir(), cwd: process.cwd(), env: process.env, platform: process.platform };
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const ctx: CliContext = { env: process.env, stdout: process.stdout, stderr: process.stderr };
  switch (command) {
    case 'daemon':
      // The daemon's own entry reads the environment, argv (--background) and signals, and sets the exit code.
      await import('@mcp-code-mode/daemon/main');
      return typeof process.exitCode === 'number' ? process.exitCode : 0;
    case 'start':
      return (await import('./start-stop.js')).startCommand(rest, ctx);
    case 'logs':
      return (await import('./logs.js')).logsCommand(rest, ctx);
    case 'audit':
      return (await import('./audit-command.js')).auditCommand(rest, ctx);
    case 'doctor':
      return (await import('./doctor.js')).doctorCommand(rest, ctx);
    case 'service':
      return (await import('./service.js')).serviceCommand(rest, ctx);
    case 'client-config':
      return (await import('./client-config.js')).clientConfigCommand(rest, ctx);
    case 'shim':
      return (await import('./shim-command.js')).shimCommand(process.env, (stop) => ['SIGTERM', 'SIGINT'].forEach((s) => process.once(s, stop)));
    case 'run':
      return (await import('./run-command.js')).runCommand(rest, { ...ctx, stdin: process.stdin });
    case 'sessions':
      return (await import('./sessions-command.js')).sessionsCommand(rest, ctx);
    case 'image':
      return (await import('./daemon-command.js')).imageCommand(rest, { ...ctx, uid: process.getuid?.() });
    case 'servers':
      return (await import('./daemon-command.js')).serversCommand(rest, discoveryInputs(), process.stdout);
    case 'status':
      return (await import('./status-command.js')).statusCommand(rest, ctx);
    case 'stop':
      return (await import('./start-stop.js')).stopCommand(rest, ctx);
    case '--version':
    case 'version':
      process.stdout.write(`${VERSION}\n`);
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError || err instanceof ControlError) process.stderr.write(`mcp-code-mode: ${err.message}\n`);
    else process.stderr.write(`mcp-code-mode: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  },
);
