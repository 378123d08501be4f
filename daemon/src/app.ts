import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { performance } from 'node:perf_hooks';
import type { DaemonStatus, OutputMode, RunLimitsInfo, RunResponse } from '@mcp-code-mode/protocol';
import type { Logger } from 'pino';
import { ApiError } from './errors.js';
import type { ToolHost } from './rpc/tool-host.js';
import { renderResult } from './runs/render.js';
import { validationResult } from './runs/results.js';
import type { RunService } from './runs/run-service.js';
import { registerApprovalRoute, registerRunRoute } from './routes/run.js';
import type { ApprovalBroker } from './approvals/approver.js';
import { registerStatusRoute } from './routes/status.js';
import { registerServerRoutes } from './routes/servers.js';
import { registerServerIndexRoute } from './routes/server-index.js';
import { registerSessionRoutes } from './routes/sessions.js';
import { registerStubRoute } from './routes/stubs.js';
import type { SessionManager, SessionSandbox } from './sessions/session-manager.js';
import { ZOD_ONLY_SCHEMAS } from './zod-only-schemas.js';

export interface AppDeps {
  runs: Pick<RunService, 'run'>;
  toolHost: ToolHost;
  /** Absent: no /v1/sessions routes (runs with `session` are refused by the run service). */
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
  /** MCP_BRIDGE_MAX_CODE_BYTES: the body limit is made from it (see bodyLimitFor). */
  maxCodeBytes: number;
  /** Answers the questions of running runs (POST /v1/runs/approvals/:id); absent: no such route. */
  approvals?: Pick<ApprovalBroker, 'answer'>;
  /** Re-reads what else the configuration holds (the approvals file) on POST /v1/reload. */
  onReload?: () => Promise<void>;
  /** Called on every control request: a client is here, so a sleeping pool starts warming. */
  wake?: () => void;
}

/**
 * The control API's body limit: room for the largest code a run may have however JSON escapes it
 * (a control character takes 6 bytes as \u0001), plus the other fields. Code over its limit but
 * within this one is refused by the run check with the size; a body past this one by the error
 * handler below, in the same words.
 */
export function bodyLimitFor(maxCodeBytes: number): number {
  return maxCodeBytes * 6 + 64 * 1024;
}

function tooLargeMessage(contentLength: string | undefined, limit: number, maxCodeBytes: number): string {
  const size = Number(contentLength);
  const body = Number.isSafeInteger(size) && size > 0 ? `${size} bytes` : `over ${limit} bytes`;
  return `code: the request is ${body}, over the daemon's ${limit}-byte body limit, so its code is over the ${maxCodeBytes}-byte limit (MCP_BRIDGE_MAX_CODE_BYTES); send less code (read data from a tool or a file instead of pasting it)`;
}

/** The control API, built apart from listening so tests can use `inject()`. */
export function buildApp(deps: AppDeps): FastifyInstance {
  // Per-request logs stay out of the log at info level.
  const app = Fastify({
    loggerInstance: deps.logger.child({ component: 'api' }, { level: 'warn' }) as FastifyBaseLogger,
    bodyLimit: bodyLimitFor(deps.maxCodeBytes),
    schemaController: ZOD_ONLY_SCHEMAS,
    // Bytes on the socket that are not HTTP at all still get an answer in the catalogue's shape.
    clientErrorHandler: (err: Error & { code?: string }, socket) => {
      if (!socket.writable) return;
      const body = JSON.stringify(new ApiError('bad_request', `not a valid HTTP request: ${err.code ?? err.message}`).body());
      socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    },
  });
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, request, reply) => {
    if (err instanceof ApiError) return reply.status(err.status).send(err.body());
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      const message = tooLargeMessage(request.headers['content-length'], bodyLimitFor(deps.maxCodeBytes), deps.maxCodeBytes);
      // A run gets what any oversized code gets: a validation_error result (streamed when asked), never a refusal
      // that a client could take for a daemon going away.
      if (request.method === 'POST' && request.url === '/v1/run') {
        const result = validationResult(message, performance.now());
        const body: RunResponse = { result, text: renderResult(result, deps.outputMode) };
        if (/application\/x-ndjson/.test(String(request.headers.accept ?? ''))) {
          return reply.status(200).type('application/x-ndjson').send(JSON.stringify({ type: 'result', ...body }) + '\n');
        }
        return reply.status(200).send(body);
      }
      return reply.status(413).send(new ApiError('request_too_large', message).body());
    }
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
  if (deps.approvals) registerApprovalRoute(app, deps.approvals);
  registerServerRoutes(app, deps);
  registerServerIndexRoute(app, deps);
  registerStubRoute(app, deps);
  registerStatusRoute(app, deps);
  if (deps.sessions) registerSessionRoutes(app, { sessions: deps.sessions });
  app.post('/v1/shutdown', async () => {
    setImmediate(deps.requestShutdown);
    return { ok: true };
  });
  return app;
}
