import type { RunLimitsInfo } from '@mcp-code-mode/protocol';
import type { FastifyInstance } from 'fastify';
import type { ToolHost } from '../rpc/tool-host.js';
import { buildServerIndex } from '../upstreams/server-index.js';

export interface ServerIndexRouteDeps {
  toolHost: ToolHost;
  /** The run limits the shim advertises in the tool's input schema; absent, the shim uses its own env. */
  runLimits?: RunLimitsInfo;
}

/**
 * GET /v1/index: what the model's index needs (docs/PROTOCOL.md): every server with its alias, one
 * line, its tool aliases, or why it is unavailable; the config problems; the run limits. The shim
 * asks for it on tools/list and on a timer. A client that goes away stops the listing.
 */
export function registerServerIndexRoute(app: FastifyInstance, deps: ServerIndexRouteDeps): void {
  app.get('/v1/index', async (_request, reply) => {
    const gone = new AbortController();
    // The response's close, not the request's: a request's 'close' comes once its (empty) body is read.
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) gone.abort();
    });
    return buildServerIndex(deps.toolHost, { signal: gone.signal, ...(deps.runLimits ? { limits: deps.runLimits } : {}) });
  });
}
