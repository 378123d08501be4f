import type { FastifyInstance } from 'fastify';
import type { ToolHost } from '../rpc/tool-host.js';

export interface ServerRoutesDeps {
  toolHost: ToolHost;
  onReload?: (() => Promise<void>) | undefined;
}

/**
 * GET /v1/servers: the configured MCP servers, their connection state and the config problems
 * (never an env value or a header). POST /v1/reload: discover again; a configuration that brings
 * new problems is not applied, and the answer says why.
 */
export function registerServerRoutes(app: FastifyInstance, deps: ServerRoutesDeps): void {
  app.get('/v1/servers', async () => deps.toolHost.status());
  app.post('/v1/reload', async () => {
    await deps.onReload?.();
    if (!deps.toolHost.reload) return { applied: false, message: 'this daemon has no MCP configuration source to reload', servers: deps.toolHost.discovered(), problems: [] };
    return deps.toolHost.reload();
  });
}
