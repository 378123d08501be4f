// The only module that reads process.env, argv and signals.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { parseEnvConfig, type EnvConfig, type OutputMode } from '@mcp-code-mode/protocol';
import { ControlClient, ControlError } from '@mcp-code-mode/shim';
import { pino, type Logger } from 'pino';
import { startDaemon } from '../daemon.js';
import { DockerodeClient } from '../engine/container-client.js';
import { detectEngine } from '../engine/detect.js';
import { buildLocalImage, builderEnv, ensureImage, LOCAL_IMAGE } from '../engine/image.js';
import { statePaths } from '../state-dir.js';
import { VERSION } from '../version.js';

const USAGE = `mcp-code-mode ${VERSION}: run Python in warm, locked-down containers, with your MCP servers as async functions.

Usage:
  mcp-code-mode daemon                      run the daemon in the foreground
  mcp-code-mode run [-c CODE | FILE | -] [--timeout N] [--servers a,b] [--json] [--output-mode toon|json|compact]
                                            send one run to the daemon and print its result
  mcp-code-mode status                      show the daemon's pool and engine
  mcp-code-mode stop                        stop the daemon (its containers are removed)
  mcp-code-mode image ensure                make the sandbox image present (pull, or build it locally)
  mcp-code-mode image build                 build the local sandbox image from Debian packages
  mcp-code-mode --version

Configuration is by MCP_BRIDGE_* environment variables; see docs/CONFIG.md.`;

class UsageError extends Error {}

function loadConfig(): EnvConfig {
  const check = parseEnvConfig(process.env);
  if (!check.ok) {
    throw new UsageError(`invalid configuration:\n  ${check.problems.join('\n  ')}`);
  }
  return check.config;
}

function logger(config: EnvConfig): Logger {
  return pino({ level: config.MCP_BRIDGE_LOG_LEVEL, base: { pid: process.pid } }, pino.destination(2));
}

async function daemonCommand(): Promise<number> {
  const config = loadConfig();
  const log = logger(config);
  const paths = statePaths(process.env);
  const daemon = await startDaemon({
    config,
    paths,
    log,
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
  switch (command) {
    case 'daemon':
      return daemonCommand();
    case 'run':
      return runCommand(rest);
    case 'image':
      return imageCommand(rest);
    case 'status': {
      const status = await new ControlClient(statePaths(process.env).socket).get('/v1/status');
      process.stdout.write(JSON.stringify(status, null, 2) + '\n');
      return 0;
    }
    case 'stop':
      await new ControlClient(statePaths(process.env).socket).post('/v1/shutdown');
      process.stdout.write('daemon stopping\n');
      return 0;
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
