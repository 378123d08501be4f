import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { DaemonStatus, OutputMode, RunLimitsInfo } from '@mcp-code-mode/protocol';
import type { Logger } from 'pino';
import { ApiError } from './errors.js';
import type { SandboxPool } from './pool/sandbox-pool.js';
import type { RunExecutor } from './runs/executor.js';
import { registerRunRoute } from './routes/run.js';
import { registerStatusRoute } from './routes/status.js';
import { registerServerRoutes } from './routes/servers.js';
import { registerServerIndexRoute } from './routes/server-index.js';
import { registerSessionRoutes } from './routes/sessions.js';
import type { SessionManager, SessionSandbox } from './sessions/session-manager.js';
import type { ToolHost } from './runs/tool-host.js';

export interface AppDeps {
  executor: RunExecutor;
  toolHost: ToolHost;
  pool: SandboxPool;
  /** Absent: no /v1/sessions routes (runs with `session` are refused by the executor). */
  sessions?: SessionManager<SessionSandbox>;
  outputMode: OutputMode;
  /** Advertised by GET /v1/index so the shim's input schema shows the daemon's real limits. */
  runLimits?: RunLimitsInfo;
  logger: Logger;
  /** The status document of GET /v1/status (and of the health endpoint's /status). */
  status: () => DaemonStatus;
  /** Called once per finished run (metrics). */
  onRun?: (status: string, durationMs: number) => void;
  requestShutdown: () => void;
  bodyLimitBytes: number;
}

/** The control API, built apart from listening so tests can use `inject()`. */
export function buildApp(deps: AppDeps): FastifyInstance {
  // Per-request logs stay out of the log at info level: a run is logged by the executor, once.
  const app = Fastify({
    loggerInstance: deps.logger.child({ component: 'api' }, { level: 'warn' }) as FastifyBaseLogger,
    bodyLimit: deps.bodyLimitBytes,
    // Bytes on the socket that are not HTTP at all still get an answer in the catalogue's shape.
    clientErrorHandler: (err: Error & { code?: string }, socket) => {
      if (!socket.writable) return;
      const body = JSON.stringify(new ApiError('bad_request', `not a valid HTTP request: ${err.code ?? err.message}`).body());
      socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    },
  });
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, _request, reply) => {
    if (err instanceof ApiError) return reply.status(err.status).send(err.body());
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      return reply.status(400).send(new ApiError('bad_request', `bad request: ${err.message}`).body());
    }
    deps.logger.error({ err }, 'control API error');
    return reply.status(500).send(new ApiError('internal', `unexpected daemon error: ${err.message}`).body());
  });
  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send(new ApiError('not_found', `no endpoint ${request.method} ${request.url}`).body());
  });
  registerRunRoute(app, deps);
  registerServerRoutes(app, deps);
  registerServerIndexRoute(app, deps);
  registerStatusRoute(app, deps);
  if (deps.sessions) registerSessionRoutes(app, { sessions: deps.sessions });
  app.post('/v1/shutdown', async () => {
    setImmediate(deps.requestShutdown);
    return { ok: true };
  });
  return app;
}
