import { spawnSync } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { ENV_VARIABLES } from '@mcp-code-mode/protocol';
import { EXIT_ALREADY_RUNNING, statePaths } from '@mcp-code-mode/client';
import { CLI_BIN, DAEMON_NODE_FLAGS, UsageError, type CliContext } from './context.js';

export const SYSTEMD_UNIT_NAME = 'mcp-code-mode.service';
export const LAUNCHD_LABEL = 'io.github.mcp-code-mode.daemon';

/** What the login service runs, and with which environment. */
export interface ServiceSpec {
  node: string;
  /** Node's own flags for the daemon (DAEMON_NODE_FLAGS). */
  nodeFlags: readonly string[];
  cli: string;
  env: Record<string, string>;
  /** The daemon log, for launchd's stdout and stderr. */
  logFile: string;
}

/**
 * The variables a login service must carry over from the shell that installs it: every MCP_BRIDGE_*
 * setting, where the engine and the MCP config are, and PATH (user services get a bare PATH, and
 * stdio MCP servers are usually started through npx or uvx).
 */
export function serviceEnvironment(env: Record<string, string | undefined>): Record<string, string> {
  const names = [...ENV_VARIABLES, 'DOCKER_HOST', 'MCP_SERVERS_CONFIG', 'PATH'];
  return Object.fromEntries(names.flatMap((name) => (env[name] ? [[name, env[name]!]] : [])));
}

/**
 * A value as one systemd word: quoted, with backslash, quote and `%` specifiers escaped. `$` is doubled
 * only in command lines (`ExecStart=` expands `$VAR`; `Environment=` gives `$` no meaning).
 */
export function systemdQuote(value: string, kind: 'command' | 'environment' = 'command'): string {
  if (/[\n\r]/.test(value)) throw new UsageError(`a value with a line break cannot go into a systemd unit: ${JSON.stringify(value)}`);
  const escaped = value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%');
  return `"${kind === 'command' ? escaped.replace(/\$/g, '$$$$') : escaped}"`;
}

/** The systemd user unit. Pure: tested against `systemd-analyze verify`. */
export function systemdUnit(spec: ServiceSpec): string {
  const lines = [
    '[Unit]',
    'Description=mcp-code-mode daemon: warm Python sandboxes and MCP connections for run_python',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${[spec.node, ...spec.nodeFlags, spec.cli, 'daemon'].map((word) => systemdQuote(word)).join(' ')}`,
    ...Object.entries(spec.env).map(([k, v]) => `Environment=${systemdQuote(`${k}=${v}`, 'environment')}`),
    'Restart=on-failure',
    'RestartSec=5',
    // A daemon started on demand by a shim may already hold the state directory: not worth a restart loop.
    `RestartPreventExitStatus=${EXIT_ALREADY_RUNNING}`,
    // SIGTERM to the daemon alone: it stops its MCP servers and removes its containers itself.
    'KillMode=mixed',
    'TimeoutStopSec=30',
    '',
    '[Install]',
    'WantedBy=default.target',
    '',
  ];
  return lines.join('\n');
}

function xml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * The launchd agent. Pure: tested by parsing it back. RunAtLoad starts it at login; no KeepAlive, since
 * a daemon that exits is started again by the next shim on demand, and a restart loop helps nobody.
 */
export function launchdPlist(spec: ServiceSpec): string {
  const strings = (values: string[], indent: string): string => values.map((v) => `${indent}<string>${xml(v)}</string>`).join('\n');
  const env = Object.entries(spec.env)
    .map(([k, v]) => `      <key>${xml(k)}</key>\n      <string>${xml(v)}</string>`)
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
  <dict>
    <key>Label</key>
    <string>${LAUNCHD_LABEL}</string>
    <key>ProgramArguments</key>
    <array>
${strings([spec.node, ...spec.nodeFlags, spec.cli, 'daemon', '--background'], '      ')}
    </array>
    <key>EnvironmentVariables</key>
    <dict>
${env}
    </dict>
    <key>RunAtLoad</key>
    <true/>
    <key>ProcessType</key>
    <string>Background</string>
    <key>StandardOutPath</key>
    <string>${xml(spec.logFile)}</string>
    <key>StandardErrorPath</key>
    <string>${xml(spec.logFile)}</string>
  </dict>
</plist>
`;
}

export interface ServiceDeps {
  platform: NodeJS.Platform;
  home: string;
  uid: number;
  env: Record<string, string | undefined>;
  node: string;
  cli: string;
  /** Runs a service manager command; returns its exit status and what it said. */
  run: (command: string, args: string[]) => { status: number | null; output: string };
}

export function serviceFile(deps: Pick<ServiceDeps, 'platform' | 'home' | 'env'>): string {
  if (deps.platform === 'darwin') return join(deps.home, 'Library', 'LaunchAgents', `${LAUNCHD_LABEL}.plist`);
  if (deps.platform === 'linux') return join(deps.env.XDG_CONFIG_HOME || join(deps.home, '.config'), 'systemd', 'user', SYSTEMD_UNIT_NAME);
  throw new UsageError(`service install supports Linux (systemd) and macOS (launchd), not ${deps.platform}; start the daemon with \`mcp-code-mode start\` instead`);
}

function runAll(deps: ServiceDeps, steps: [string, string[]][], ctx: CliContext): boolean {
  for (const [command, args] of steps) {
    const { status, output } = deps.run(command, args);
    if (status !== 0) {
      ctx.stderr.write(`\`${command} ${args.join(' ')}\` failed${output.trim() ? `: ${output.trim()}` : ''}\n`);
      return false;
    }
  }
  return true;
}

/** `mcp-code-mode service install|uninstall [--no-enable]`. */
export async function serviceCommand(args: string[], ctx: CliContext, deps: ServiceDeps = defaultServiceDeps(ctx.env)): Promise<number> {
  const [action, ...rest] = args;
  const enable = !rest.includes('--no-enable');
  const file = serviceFile(deps);
  const darwin = deps.platform === 'darwin';
  const target = `gui/${deps.uid}`;
  if (action === 'install') {
    const spec: ServiceSpec = { node: deps.node, nodeFlags: DAEMON_NODE_FLAGS, cli: deps.cli, env: serviceEnvironment(deps.env), logFile: statePaths(deps.env).logFile };
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, darwin ? launchdPlist(spec) : systemdUnit(spec), { mode: 0o644 });
    ctx.stdout.write(`wrote ${file}\n`);
    const steps: [string, string[]][] = darwin
      ? [['launchctl', ['bootstrap', target, file]]]
      : [
          ['systemctl', ['--user', 'daemon-reload']],
          ['systemctl', ['--user', 'enable', '--now', SYSTEMD_UNIT_NAME]],
        ];
    if (darwin) deps.run('launchctl', ['bootout', `${target}/${LAUNCHD_LABEL}`]);
    const manual = steps.map(([c, a]) => `${c} ${a.join(' ')}`).join(' && ');
    if (!enable) {
      ctx.stdout.write(`not enabled (--no-enable); enable it with: ${manual}\n`);
      return 0;
    }
    if (!runAll(deps, steps, ctx)) {
      ctx.stderr.write(`the file is written, but the service manager did not take it; once it runs, enable it with: ${manual}\n`);
      return 1;
    }
    ctx.stdout.write('enabled: the daemon now starts at login\n');
    return 0;
  }
  if (action === 'uninstall') {
    if (enable) {
      // Best effort: the unit may not be loaded, or the service manager may not run here.
      if (darwin) deps.run('launchctl', ['bootout', `${target}/${LAUNCHD_LABEL}`]);
      else deps.run('systemctl', ['--user', 'disable', '--now', SYSTEMD_UNIT_NAME]);
    }
    await rm(file, { force: true });
    if (!darwin && enable) deps.run('systemctl', ['--user', 'daemon-reload']);
    ctx.stdout.write(`removed ${file}\n`);
    return 0;
  }
  throw new UsageError('service needs install or uninstall (add --no-enable to only write or remove the file)');
}

export function defaultServiceDeps(env: Record<string, string | undefined>): ServiceDeps {
  return {
    platform: process.platform,
    home: env.HOME || homedir(),
    uid: process.getuid?.() ?? 0,
    env,
    node: process.execPath,
    cli: CLI_BIN,
    run: (command, args) => {
      const result = spawnSync(command, args, { encoding: 'utf8', env });
      return { status: result.error ? null : result.status, output: `${result.stdout ?? ''}${result.stderr ?? ''}${result.error?.message ?? ''}` };
    },
  };
}
