import type { DaemonStatus } from '@mcp-code-mode/protocol';
import type { FastifyInstance } from 'fastify';

export interface StatusRouteDeps {
  status: () => DaemonStatus;
}

/** GET /v1/status: pool, servers, runs, versions (see DaemonStatusSchema); never a secret. */
export function registerStatusRoute(app: FastifyInstance, deps: StatusRouteDeps): void {
  app.get('/v1/status', async () => deps.status());
}
