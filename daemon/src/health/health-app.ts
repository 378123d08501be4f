import Fastify, { type FastifyInstance } from 'fastify';
import type { DaemonStatus } from '@mcp-code-mode/protocol';
import { ApiError } from '../errors.js';
import { ZOD_ONLY_SCHEMAS } from '../zod-only-schemas.js';

export interface HealthDeps {
  /** The same status as GET /v1/status: already free of secrets. */
  status: () => DaemonStatus;
  /** The Prometheus exposition. */
  metrics: { exposition(): Promise<{ contentType: string; body: string }> };
  uptimeSec: () => number;
}

const READ_METHODS = new Set(['GET', 'HEAD']);

/**
 * The health endpoint: a second Fastify instance, read-only, meant for 127.0.0.1. Built apart from
 * listening so tests use `inject()`. Anything but GET and HEAD is refused before routing, so no
 * request body is ever read.
 */
export function buildHealthApp(deps: HealthDeps): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: 1024, schemaController: ZOD_ONLY_SCHEMAS });
  app.addHook('onRequest', async (request, reply) => {
    if (READ_METHODS.has(request.method)) return;
    reply.header('allow', 'GET, HEAD');
    return reply.status(405).send(new ApiError('method_not_allowed', `${request.method} is not allowed: the health endpoint is read-only (GET, HEAD)`).body());
  });
  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send(new ApiError('not_found', `no endpoint ${request.url}; try /healthz, /status or /metrics`).body());
  });
  app.get('/healthz', async () => ({ status: 'ok', uptimeSec: deps.uptimeSec() }));
  app.get('/status', async () => deps.status());
  app.get('/metrics', async (_request, reply) => {
    const { contentType, body } = await deps.metrics.exposition();
    return reply.type(contentType).send(body);
  });
  return app;
}
