import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { DaemonStatus, OutputMode } from '@mcp-code-mode/protocol';
import type { Logger } from 'pino';
import { ApiError } from './errors.js';
import type { ToolHost } from './rpc/tool-host.js';
import type { RunService } from './runs/run-service.js';
import { registerRunRoute } from './routes/run.js';
import { registerStatusRoute } from './routes/status.js';
import { registerServerRoutes } from './routes/servers.js';
import { registerSessionRoutes } from './routes/sessions.js';
import type { SessionManager, SessionSandbox } from './sessions/session-manager.js';

export interface AppDeps {
  runs: Pick<RunService, 'run'>;
  toolHost: ToolHost;
  /** Absent: no /v1/sessions routes (runs with `session` are refused by the run service). */
  sessions?: SessionManager<SessionSandbox>;
  outputMode: OutputMode;
  logger: Logger;
  /** The status document of GET /v1/status (and of the health endpoint's /status). */
  status: () => DaemonStatus;
  /** Called once per finished run (metrics). */
  onRun?: (status: string, durationMs: number) => void;
  requestShutdown: () => void;
  bodyLimitBytes: number;
  /** Called on every control request: a client is here, so a sleeping pool starts warming. */
  wake?: () => void;
}

/** The control API, built apart from listening so tests can use `inject()`. */
export function buildApp(deps: AppDeps): FastifyInstance {
  // Per-request logs stay out of the log at info level.
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
  const wake = deps.wake;
  // Any request (a shim's launcher asks GET /v1/status when it connects) means a run may follow.
  if (wake) app.addHook('onRequest', async () => wake());
  registerRunRoute(app, deps);
  registerServerRoutes(app, deps);
  registerStatusRoute(app, deps);
  if (deps.sessions) registerSessionRoutes(app, { sessions: deps.sessions });
  app.post('/v1/shutdown', async () => {
    setImmediate(deps.requestShutdown);
    return { ok: true };
  });
  return app;
}
