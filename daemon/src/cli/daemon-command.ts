// `mcp-code-mode daemon`, `servers` and `image`: the commands that load the engine, the MCP host and
// the whole daemon. main.ts imports this module only for them, so that light commands start fast.
import { parseArgs } from 'node:util';
import { EXIT_ALREADY_RUNNING, statePaths } from '@mcp-code-mode/shim';
import { discoverServers } from '../config/discover.js';
import { formatReport, publicReport } from '../config/format-report.js';
import type { DiscoveryInputs } from '../config/sources.js';
import { startDaemon } from '../daemon.js';
import { DockerodeClient } from '../engine/container-client.js';
import { detectEngine } from '../engine/detect.js';
import { builderEnv } from '../engine/image.js';
import { buildProfileImage, ensureConfiguredImage, imageTag, parseImageArgs, userPackages } from '../engine/image-profiles.js';
import { createDaemonLogger } from '../logging.js';
import { createMcpToolHost } from '../upstreams/create-host.js';
import { UsageError, type CliContext } from './context.js';
import { lockStateDir } from './daemon-lock.js';
import { loadConfig } from './load-config.js';

/** What the daemon command gets from main.ts: the environment, and hooks for signals and exit. */
export interface DaemonHost {
  env: Record<string, string | undefined>;
  discovery: DiscoveryInputs;
  stderr: NodeJS.WritableStream;
  onSignals(stop: (signal: string) => void): void;
  onExit(fn: () => void): void;
  exit(code: number): void;
}

export async function serversCommand(args: string[], discovery: DiscoveryInputs, stdout: { write(text: string): unknown }): Promise<number> {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean', default: false } } });
  const report = await discoverServers(discovery);
  stdout.write((values.json ? JSON.stringify(publicReport(report), null, 2) : formatReport(report)) + '\n');
  return report.problems.length > 0 ? 1 : 0;
}

export async function daemonCommand(args: string[], host: DaemonHost): Promise<number> {
  const config = loadConfig(host.env);
  const paths = statePaths(host.env);
  const lock = await lockStateDir(paths, host.stderr);
  if (!lock) return EXIT_ALREADY_RUNNING;
  host.onExit(() => lock.release());
  const log = createDaemonLogger({ level: config.MCP_BRIDGE_LOG_LEVEL, logFile: paths.logFile, stderr: !args.includes('--background') });
  const toolHost = await createMcpToolHost({ inputs: host.discovery, log });
  const daemon = await startDaemon({
    config,
    paths,
    log,
    toolHost,
    env: host.env,
    imageExplicit: Boolean(host.env.MCP_BRIDGE_IMAGE),
    onProgress: (line) => log.info(line),
  });
  const stop = (signal: string): void => {
    log.info({ signal }, 'signal received');
    void daemon.close();
  };
  host.onSignals(stop);
  await daemon.closed;
  // Engine HTTP keep-alive sockets must not hold the process open after a clean stop.
  setTimeout(() => host.exit(0), 200).unref();
  return 0;
}

export async function imageCommand(args: string[], ctx: CliContext & { uid: number | undefined }): Promise<number> {
  const config = loadConfig(ctx.env);
  const parsed = parseImageArgs(args);
  if ('problem' in parsed) throw new UsageError(parsed.problem);
  const endpoint = await detectEngine({ runtime: config.MCP_BRIDGE_RUNTIME, dockerHost: ctx.env.DOCKER_HOST, xdgRuntimeDir: ctx.env.XDG_RUNTIME_DIR, uid: ctx.uid });
  if (!endpoint) throw new UsageError('no container engine found; run scripts/ensure-engine.sh, or set MCP_BRIDGE_RUNTIME / DOCKER_HOST');
  const client = new DockerodeClient(endpoint);
  await client.ping();
  // The builder imports with the engine's own CLI: it must be the engine behind this socket.
  const buildEnv = builderEnv((await client.version()).name, endpoint, ctx.env);
  const onProgress = (line: string): void => void ctx.stderr.write(`${line}\n`);
  const cwd = process.cwd();
  let image: string;
  if (parsed.sub === 'build') {
    // `build` always builds with the offline builder: the profile asked for (else the configured one) and the user's packages.
    const profile = parsed.profile ?? config.MCP_BRIDGE_IMAGE_PROFILE;
    const user = userPackages(config, cwd);
    image = await buildProfileImage(client, { profile, tag: imageTag(profile, user), user }, { onProgress, buildEnv });
  } else image = await ensureConfiguredImage(client, config, { explicit: Boolean(ctx.env.MCP_BRIDGE_IMAGE), cwd, onProgress, buildEnv });
  ctx.stdout.write(`${image}\n`);
  return 0;
}
