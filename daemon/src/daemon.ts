import { randomUUID } from 'node:crypto';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { EnvConfig } from '@mcp-code-mode/protocol';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApp } from './app.js';
import { ApprovalBroker } from './approvals/approver.js';
import { AuditLog } from './approvals/audit-log.js';
import { ApprovalSettings } from './approvals/settings.js';
import { Observability } from './observability.js';
import { removeLeftovers, removeSandboxes, SandboxPool } from './pool/sandbox-pool.js';
import { RpcRouter } from './rpc/rpc-router.js';
import { EmptyToolHost, type ToolHost } from './rpc/tool-host.js';
import { openRuntime } from './runtimes/select.js';
import type { SandboxRuntime } from './runtimes/runtime.js';
import { RunService } from './runs/run-service.js';
import { buildAgentBundle } from './agent/agent-bundle.js';
import type { Sandbox } from './sandbox/sandbox.js';
import { SessionManager } from './sessions/session-manager.js';
import { SkillStore } from './skills/skill-store.js';
import { SocketWatch } from './socket-watch.js';
import type { StatePaths } from './state-dir.js';
import { VERSION } from './version.js';

/** How long the start-up waits at most for the first sandbox to launch before it goes on. */
const FIRST_LAUNCH_WAIT_MS = 1000;

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
  readonly runtime: SandboxRuntime;
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

export async function startDaemon(options: DaemonOptions): Promise<RunningDaemon> {
  const { config, paths, log } = options;
  const progress = options.onProgress ?? ((line: string) => log.info(line));
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });
  await chmod(paths.dir, 0o700);
  // Before anything is started: a broken approvals file stops the daemon with nothing to clean up.
  const approvals = new ApprovalSettings(
    config.MCP_BRIDGE_APPROVAL,
    config.MCP_BRIDGE_APPROVAL_TIMEOUT * 1000,
    config.MCP_BRIDGE_APPROVALS_FILE ?? join(paths.dir, 'approvals.json'),
    log.child({ component: 'approvals' }),
  );
  await approvals.load();
  const broker = new ApprovalBroker();
  const audit = new AuditLog(paths.auditFile, config.MCP_BRIDGE_AUDIT_MAX_BYTES, log.child({ component: 'audit' }));
  if (await socketAnswers(paths.socket)) {
    throw new Error(`a daemon is already running on ${paths.socket}; stop it with \`mcp-code-mode stop\` or use another MCP_BRIDGE_STATE_DIR`);
  }
  await rm(paths.socket, { force: true });

  const bundle = await buildAgentBundle(undefined, { preload: config.MCP_BRIDGE_PRELOAD });
  const daemonId = randomUUID();
  const runtime = await openRuntime({
    config,
    env: options.env,
    imageExplicit: options.imageExplicit,
    cwd: process.cwd(),
    stateDir: paths.dir,
    owner: paths.owner,
    daemonId,
    command: bundle.command,
    log,
    onProgress: progress,
  });
  const info = runtime.info();
  await removeLeftovers(runtime, log);

  const pool = new SandboxPool({
    runtime,
    size: config.MCP_BRIDGE_POOL_SIZE,
    max: config.MCP_BRIDGE_POOL_MAX,
    queueMax: config.MCP_BRIDGE_QUEUE_MAX,
    idleTimeoutMs: config.MCP_BRIDGE_RUNTIME_IDLE_TIMEOUT * 1000,
    log: log.child({ component: 'pool' }),
  });
  if (config.MCP_BRIDGE_POOL_SIZE > 0) {
    // What follows (the control server, the metrics) costs the daemon's one thread ~50 ms: let the
    // first sandbox launch first, so that its Python starts beside it. Bounded, in case it never does.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([pool.firstLaunch(), new Promise<void>((resolve) => (timer = setTimeout(resolve, FIRST_LAUNCH_WAIT_MS)))]);
    clearTimeout(timer);
  }
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
    info: { version: VERSION, engine: { name: info.name, version: info.version, via: info.via }, image: info.image, socket: paths.socket },
    runtime: { kind: info.kind, name: info.name, version: info.version },
    httpPort: config.MCP_BRIDGE_HTTP_PORT,
    log: log.child({ component: 'health' }),
  });
  await observability.loadMetrics();
  const router = new RpcRouter({ host: toolHost, skills, onToolCall: observability.onToolCall });
  const runs = new RunService({
    pool,
    router,
    limits: {
      defaultTimeoutSec: config.MCP_BRIDGE_TIMEOUT,
      maxTimeoutSec: config.MCP_BRIDGE_MAX_TIMEOUT,
      maxOutputBytes: config.MCP_BRIDGE_MAX_OUTPUT_BYTES,
      maxCodeBytes: config.MCP_BRIDGE_MAX_CODE_BYTES,
      maxToolCalls: config.MCP_BRIDGE_MAX_TOOL_CALLS,
      maxConcurrentCalls: config.MCP_BRIDGE_MAX_CONCURRENT_CALLS,
      attachments: {
        maxImages: config.MCP_BRIDGE_MAX_IMAGES,
        maxImageBytes: config.MCP_BRIDGE_MAX_IMAGE_BYTES,
        maxExportBytes: config.MCP_BRIDGE_MAX_EXPORT_BYTES,
      },
    },
    log: log.child({ component: 'runs' }),
    sessions,
    skills,
    approvals: { settings: approvals, broker },
    audit,
  });

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
      const left = await runtime.list().catch(() => []);
      await removeSandboxes(runtime, left.filter((row) => row.ours), log, 'the next daemon on this state directory removes it');
      await runtime.close();
      await rm(paths.socket, { force: true });
      await rm(paths.pidFile, { force: true });
      log.info('daemon stopped');
      resolveClosed();
    })());

  const app = buildApp({
    runs,
    toolHost,
    sessions,
    outputMode: config.MCP_BRIDGE_OUTPUT_MODE,
    runLimits: { timeoutSec: config.MCP_BRIDGE_TIMEOUT, maxTimeoutSec: config.MCP_BRIDGE_MAX_TIMEOUT },
    logger: log,
    maxCodeBytes: config.MCP_BRIDGE_MAX_CODE_BYTES,
    requestShutdown: () => void close(),
    approvals: broker,
    onReload: () => approvals.reload(),
    status: observability.status,
    onRun: observability.onRun,
    wake: () => pool.wake(),
  });
  if (runtime.selfTest && config.MCP_BRIDGE_POOL_SIZE > 0) {
    // The pool's first sandbox is the start-up check of this runtime: a sandbox that cannot start
    // here is reported now, with its reason, not as every run's failure. (A separate test sandbox
    // before the pool would add its whole start to the daemon's.)
    try {
      await pool.firstStart();
    } catch (err) {
      const reason = await runtime.selfTest().then(
        () => err as Error,
        (selfTestErr: Error) => selfTestErr,
      );
      await close();
      throw reason;
    }
  }
  await app.listen({ path: paths.socket });
  await chmod(paths.socket, 0o600);
  socketWatch = new SocketWatch({ path: paths.socket, server: app.server, log: log.child({ component: 'socket' }) });
  socketWatch.start();
  await observability.startHealth();
  await writeFile(paths.pidFile, `${process.pid}\n`, { mode: 0o600 });
  log.info({ socket: paths.socket, runtime: info.kind, image: info.image, poolSize: config.MCP_BRIDGE_POOL_SIZE, agentBundleBytes: bundle.bytes }, 'daemon ready');
  return { socketPath: paths.socket, app, pool, sessions, runtime, daemonId, close, closed };
}
