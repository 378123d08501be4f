import { randomUUID } from 'node:crypto';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { EnvConfig } from '@mcp-code-mode/protocol';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApp } from './app.js';
import { DockerodeClient, EngineError, type ContainerClient, type EngineVersion } from './runtimes/container/container-client.js';
import { detectEngine } from './runtimes/container/detect.js';
import { builderEnv, ensureImage } from './runtimes/container/image.js';
import { buildSandboxSpec, LABEL_DAEMON, LABEL_OWNER } from './runtimes/container/sandbox-spec.js';
import { loadBaseProfile, PERMISSIVE_BASE, sandboxSeccompProfile } from './runtimes/container/seccomp.js';
import { removeOrphans, SandboxPool } from './pool/sandbox-pool.js';
import { RunExecutor } from './runs/executor.js';
import { EmptyToolHost, type ToolHost } from './runs/tool-host.js';
import { Observability } from './observability.js';
import { buildAgentBundle } from './sandbox/agent-bundle.js';
import type { Sandbox } from './sandbox/sandbox.js';
import { SessionManager } from './sessions/session-manager.js';
import { SkillStore } from './skills/skill-store.js';
import { SocketWatch } from './socket-watch.js';
import type { StatePaths } from './state-dir.js';
import { VERSION } from './version.js';

export interface DaemonOptions {
  config: EnvConfig;
  paths: StatePaths;
  log: Logger;
  /** Variables the engine detection and the image builder may read (DOCKER_HOST, XDG_RUNTIME_DIR, PATH...). */
  env: Record<string, string | undefined>;
  /** Whether MCP_BRIDGE_IMAGE was set by the user. */
  imageExplicit: boolean;
  toolHost?: ToolHost;
  onProgress?: (line: string) => void;
}

export interface RunningDaemon {
  readonly socketPath: string;
  readonly app: FastifyInstance;
  readonly pool: SandboxPool;
  readonly sessions: SessionManager<Sandbox>;
  readonly client: ContainerClient;
  readonly daemonId: string;
  /** Ends runs, removes every container of this daemon, removes the socket. Idempotent. */
  close(): Promise<void>;
  /** Settles once the daemon has closed (after close() or /v1/shutdown). */
  readonly closed: Promise<void>;
}

function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const ENGINE_HELP =
  'no container engine found. Install and start Docker (Debian: apt-get install docker.io && dockerd &) or Podman ' +
  '(apt-get install podman && podman system service --time=0 &), or point MCP_BRIDGE_RUNTIME / DOCKER_HOST at its socket';

/**
 * The seccomp profile for the sandboxes, as `seccomp=` takes it, or undefined for the engine's own.
 * Docker's default already refuses namespaces, mounts and the keyring to a process without
 * capabilities. Podman's default allows them (and a user namespace brings capabilities back), so on
 * Podman the sandbox uses Podman's installed default with those refused.
 */
async function sandboxSeccomp(engineName: string, log: Logger): Promise<string | undefined> {
  if (engineName !== 'podman') return undefined;
  const base = await loadBaseProfile();
  if (!base) log.warn('no Podman default seccomp profile found (/usr/share/containers/seccomp.json); the sandbox allows every syscall but namespaces, mounts and the keyring');
  else log.debug({ source: base.source }, 'seccomp profile based on the installed default');
  return JSON.stringify(sandboxSeccompProfile(base?.profile ?? PERMISSIVE_BASE));
}

export async function startDaemon(options: DaemonOptions): Promise<RunningDaemon> {
  const { config, paths, log } = options;
  const progress = options.onProgress ?? ((line: string) => log.info(line));
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });
  await chmod(paths.dir, 0o700);
  if (await socketAnswers(paths.socket)) {
    throw new Error(`a daemon is already running on ${paths.socket}; stop it with \`mcp-code-mode stop\` or use another MCP_BRIDGE_STATE_DIR`);
  }
  await rm(paths.socket, { force: true });

  const endpoint = await detectEngine({
    runtime: config.MCP_BRIDGE_RUNTIME,
    dockerHost: options.env.DOCKER_HOST,
    xdgRuntimeDir: options.env.XDG_RUNTIME_DIR,
    uid: process.getuid?.(),
  });
  if (!endpoint) throw new EngineError(ENGINE_HELP);
  const client = new DockerodeClient(endpoint, { profileDir: paths.dir });
  await client.ping();
  const engine: EngineVersion = await client.version();
  log.info({ engine: engine.name, version: engine.version, via: endpoint.source }, 'container engine found');

  const image = await ensureImage(client, {
    image: config.MCP_BRIDGE_IMAGE,
    explicit: options.imageExplicit,
    onProgress: progress,
    buildEnv: builderEnv(engine.name, endpoint, options.env),
  });
  const bundle = await buildAgentBundle();
  const daemonId = randomUUID();
  await removeOrphans(client, paths.owner, daemonId, log);

  const seccomp = await sandboxSeccomp(engine.name, log);
  const spec = buildSandboxSpec(
    {
      image,
      user: config.MCP_BRIDGE_CONTAINER_USER,
      memoryBytes: config.MCP_BRIDGE_MEMORY,
      pids: config.MCP_BRIDGE_PIDS,
      cpus: config.MCP_BRIDGE_CPUS,
      tmpfsBytes: config.MCP_BRIDGE_TMPFS_SIZE,
      nofile: config.MCP_BRIDGE_NOFILE,
      nproc: config.MCP_BRIDGE_NPROC,
      seccomp,
    },
    bundle.command,
    { [LABEL_OWNER]: paths.owner, [LABEL_DAEMON]: daemonId },
  );
  const pool = new SandboxPool({
    client,
    spec,
    size: config.MCP_BRIDGE_POOL_SIZE,
    max: config.MCP_BRIDGE_POOL_MAX,
    queueMax: config.MCP_BRIDGE_QUEUE_MAX,
    log: log.child({ component: 'pool' }),
  });
  const toolHost = options.toolHost ?? new EmptyToolHost();
  const sessions = new SessionManager<Sandbox>({
    pool,
    maxSessions: config.MCP_BRIDGE_MAX_SESSIONS,
    idleTtlSec: config.MCP_BRIDGE_SESSION_TTL,
    log: log.child({ component: 'sessions' }),
  });
  // Saved tools live in the state directory, written by the daemon alone: no container mounts it.
  const skills = new SkillStore(join(paths.dir, 'skills'));
  const observability = new Observability({
    pool,
    toolHost,
    sessions: () => sessions.status(),
    info: { version: VERSION, engine: { name: engine.name, version: engine.version, via: endpoint.source }, image, socket: paths.socket },
    httpPort: config.MCP_BRIDGE_HTTP_PORT,
    log: log.child({ component: 'health' }),
  });
  const executor = new RunExecutor(
    pool,
    observability.toolHost,
    {
      defaultTimeoutSec: config.MCP_BRIDGE_TIMEOUT,
      maxTimeoutSec: config.MCP_BRIDGE_MAX_TIMEOUT,
      maxOutputBytes: config.MCP_BRIDGE_MAX_OUTPUT_BYTES,
      maxCodeBytes: config.MCP_BRIDGE_MAX_CODE_BYTES,
    },
    log.child({ component: 'runs' }),
    { sessions, skills },
  );

  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  let closing: Promise<void> | undefined;
  let socketWatch: SocketWatch | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      // Before the first await: a run that arrives from here on is refused as shutting_down (never
      // started, so the shim sends it to the next daemon) instead of starting and being killed.
      pool.stopLeasing();
      log.info('shutting down: ending runs and removing containers');
      await socketWatch?.close();
      await sessions.close();
      await pool.close();
      await app.close();
      await observability.close();
      await toolHost.close().catch((err) => log.warn({ err }, 'closing MCP connections failed'));
      const left = await client.list({ [LABEL_DAEMON]: daemonId }).catch(() => []);
      await Promise.allSettled(left.map((row) => client.remove(row.id)));
      await rm(paths.socket, { force: true });
      await rm(paths.pidFile, { force: true });
      log.info('daemon stopped');
      resolveClosed();
    })());

  const app = buildApp({
    executor,
    toolHost,
    pool,
    sessions,
    outputMode: config.MCP_BRIDGE_OUTPUT_MODE,
    runLimits: { timeoutSec: config.MCP_BRIDGE_TIMEOUT, maxTimeoutSec: config.MCP_BRIDGE_MAX_TIMEOUT },
    logger: log,
    bodyLimitBytes: config.MCP_BRIDGE_MAX_CODE_BYTES + 64 * 1024,
    requestShutdown: () => void close(),
    status: observability.status,
    onRun: observability.onRun,
  });
  await app.listen({ path: paths.socket });
  await chmod(paths.socket, 0o600);
  socketWatch = new SocketWatch({ path: paths.socket, server: app.server, log: log.child({ component: 'socket' }) });
  socketWatch.start();
  await observability.startHealth();
  await writeFile(paths.pidFile, `${process.pid}\n`, { mode: 0o600 });
  log.info({ socket: paths.socket, image, poolSize: config.MCP_BRIDGE_POOL_SIZE, agentBundleBytes: bundle.bytes }, 'daemon ready');
  return { socketPath: paths.socket, app, pool, sessions, client, daemonId, close, closed };
}
