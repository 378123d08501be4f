// The only module that reads process.env, argv and signals.
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { parseArgs } from 'node:util';
import { parseEnvConfig, type EnvConfig, type OutputMode } from '@mcp-code-mode/protocol';
import { ControlClient, ControlError, EXIT_ALREADY_RUNNING } from '@mcp-code-mode/shim';
import { discoverServers } from '../config/discover.js';
import { formatReport, publicReport } from '../config/format-report.js';
import type { DiscoveryInputs } from '../config/sources.js';
import { startDaemon } from '../daemon.js';
import { DockerodeClient } from '../engine/container-client.js';
import { detectEngine } from '../engine/detect.js';
import { buildLocalImage, builderEnv, ensureImage, LOCAL_IMAGE } from '../engine/image.js';
import { statePaths } from '../state-dir.js';
import { createMcpToolHost } from '../upstreams/create-host.js';
import { VERSION } from '../version.js';
import { createDaemonLogger } from '../logging.js';
import { clientConfigCommand } from './client-config.js';
import { UsageError, type CliContext } from './context.js';
import { lockStateDir } from './daemon-lock.js';
import { doctorCommand } from './doctor.js';
import { logsCommand } from './logs.js';
import { serviceCommand } from './service.js';
import { sessionsCommand } from './sessions-command.js';
import { startCommand, stopCommand } from './start-stop.js';
import { statusCommand } from './status-command.js';

const USAGE = `mcp-code-mode ${VERSION}: run Python in warm, locked-down containers, with your MCP servers as async functions.

Usage:
  mcp-code-mode daemon [--background]       run the daemon in the foreground (--background: log to the file only)
  mcp-code-mode start                       start the daemon in the background and wait until it answers
  mcp-code-mode shim                        the stdio MCP server that MCP clients launch (also: mcp-code-mode-shim)
  mcp-code-mode logs [-n N] [-f] [--json]   show (or follow) the daemon log
  mcp-code-mode doctor [--json]             check engine, image, state directory, socket and MCP config, with fixes
  mcp-code-mode service install|uninstall   start the daemon at login (systemd user unit / launchd agent)
  mcp-code-mode client-config claude-code|claude-desktop|cursor
                                            print the snippet that registers the shim in that client
  mcp-code-mode run [-c CODE | FILE | -] [--timeout N] [--servers a,b] [--session new|ID] [--json] [--output-mode toon|json|compact]
                                            send one run to the daemon and print its result (--session: keep state across runs)
  mcp-code-mode sessions list [--json]      the open sessions, with their ids
  mcp-code-mode sessions end ID             end a session; its container is removed
  mcp-code-mode status [--json]             show the daemon's pool, servers, runs and engine
  mcp-code-mode servers [--json]            list the MCP servers found in the config files, from where, and the problems
  mcp-code-mode stop                        stop the daemon (its containers are removed)
  mcp-code-mode image ensure                make the sandbox image present (pull, or build it locally)
  mcp-code-mode image build                 build the local sandbox image from Debian packages
  mcp-code-mode --version

Configuration is by MCP_BRIDGE_* environment variables; see docs/CONFIG.md.`;

function loadConfig(): EnvConfig {
  const check = parseEnvConfig(process.env);
  if (!check.ok) {
    throw new UsageError(`invalid configuration:\n  ${check.problems.join('\n  ')}`);
  }
  return check.config;
}

/** Where MCP server configs are looked for: this process's home, directory and environment. */
function discoveryInputs(): DiscoveryInputs {
  return { home: process.env.HOME || homedir(), cwd: process.cwd(), env: process.env, platform: process.platform };
}

async function serversCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean', default: false } } });
  const report = await discoverServers(discoveryInputs());
  process.stdout.write((values.json ? JSON.stringify(publicReport(report), null, 2) : formatReport(report)) + '\n');
  return report.problems.length > 0 ? 1 : 0;
}

async function daemonCommand(args: string[]): Promise<number> {
  const config = loadConfig();
  const paths = statePaths(process.env);
  const lock = await lockStateDir(paths, process.stderr);
  if (!lock) return EXIT_ALREADY_RUNNING;
  process.once('exit', () => lock.release());
  const log = createDaemonLogger({ level: config.MCP_BRIDGE_LOG_LEVEL, logFile: paths.logFile, stderr: !args.includes('--background') });
  const toolHost = await createMcpToolHost({ inputs: discoveryInputs(), log });
  const daemon = await startDaemon({
    config,
    paths,
    log,
    toolHost,
    env: process.env,
    imageExplicit: Boolean(process.env.MCP_BRIDGE_IMAGE),
    onProgress: (line) => log.info(line),
  });
  const stop = (signal: string): void => {
    log.info({ signal }, 'signal received');
    void daemon.close();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  await daemon.closed;
  // Engine HTTP keep-alive sockets must not hold the process open after a clean stop.
  setTimeout(() => process.exit(0), 200).unref();
  return 0;
}

async function readCode(positionals: string[], inline: string | undefined): Promise<string> {
  if (inline !== undefined) return inline;
  const source = positionals[0];
  if (!source) throw new UsageError('run needs code: -c CODE, a FILE, or - for standard input');
  if (source === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }
  return readFile(source, 'utf8');
}

async function runCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      code: { type: 'string', short: 'c' },
      timeout: { type: 'string' },
      servers: { type: 'string' },
      session: { type: 'string' },
      json: { type: 'boolean', default: false },
      'output-mode': { type: 'string' },
    },
  });
  const code = await readCode(positionals, values.code);
  const timeout = values.timeout === undefined ? undefined : Number(values.timeout);
  if (timeout !== undefined && !Number.isInteger(timeout)) throw new UsageError(`--timeout must be a whole number of seconds, got ${values.timeout}`);
  const mode = values['output-mode'];
  if (mode !== undefined && !['toon', 'json', 'compact'].includes(mode)) throw new UsageError(`--output-mode must be toon, json or compact, got ${mode}`);
  const client = new ControlClient(statePaths(process.env).socket);
  const response = await client.run({
    code,
    ...(timeout !== undefined ? { timeout } : {}),
    ...(values.servers ? { servers: values.servers.split(',').map((s) => s.trim()).filter(Boolean) } : {}),
    ...(values.session !== undefined ? { session: values.session } : {}),
    ...(mode ? { outputMode: mode as OutputMode } : {}),
  });
  process.stdout.write((values.json ? JSON.stringify(response.result, null, 2) : response.text) + '\n');
  const status = response.result.status;
  return status === 'success' ? 0 : status === 'validation_error' ? 2 : status === 'timeout' ? 124 : 1;
}

async function imageCommand(args: string[]): Promise<number> {
  const config = loadConfig();
  const sub = args[0];
  const endpoint = await detectEngine({ runtime: config.MCP_BRIDGE_RUNTIME, dockerHost: process.env.DOCKER_HOST, xdgRuntimeDir: process.env.XDG_RUNTIME_DIR, uid: process.getuid?.() });
  if (!endpoint) throw new UsageError('no container engine found; run scripts/ensure-engine.sh, or set MCP_BRIDGE_RUNTIME / DOCKER_HOST');
  const buildEnv = builderEnv(endpoint, process.env);
  const onProgress = (line: string): void => void process.stderr.write(`${line}\n`);
  if (sub === 'build') {
    await buildLocalImage({ onProgress, buildEnv }, LOCAL_IMAGE);
    process.stdout.write(`${LOCAL_IMAGE}\n`);
    return 0;
  }
  if (sub === 'ensure') {
    const client = new DockerodeClient(endpoint);
    await client.ping();
    const image = await ensureImage(client, { image: config.MCP_BRIDGE_IMAGE, explicit: Boolean(process.env.MCP_BRIDGE_IMAGE), onProgress, buildEnv });
    process.stdout.write(`${image}\n`);
    return 0;
  }
  throw new UsageError('image needs a subcommand: build or ensure');
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const ctx: CliContext = { env: process.env, stdout: process.stdout, stderr: process.stderr };
  switch (command) {
    case 'daemon':
      return daemonCommand(rest);
    case 'start':
      return startCommand(rest, ctx);
    case 'logs':
      return logsCommand(rest, ctx);
    case 'doctor':
      return doctorCommand(rest, ctx);
    case 'service':
      return serviceCommand(rest, ctx);
    case 'client-config':
      return clientConfigCommand(rest, ctx);
    case 'shim':
      return (await import('./shim-command.js')).shimCommand(process.env, (stop) => ['SIGTERM', 'SIGINT'].forEach((s) => process.once(s, stop)));
    case 'run':
      return runCommand(rest);
    case 'sessions':
      return sessionsCommand(rest, ctx);
    case 'image':
      return imageCommand(rest);
    case 'servers':
      return serversCommand(rest);
    case 'status':
      return statusCommand(rest, ctx);
    case 'stop':
      return stopCommand(rest, ctx);
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
