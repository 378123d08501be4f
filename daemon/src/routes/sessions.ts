import type { SessionEndResponse, SessionList } from '@mcp-code-mode/protocol';
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../errors.js';
import type { SessionManager, SessionSandbox } from '../sessions/session-manager.js';

export interface SessionRoutesDeps {
  sessions: SessionManager<SessionSandbox>;
}

/**
 * GET /v1/sessions: the open sessions, full ids included (the control socket is the user's own;
 * sandboxed code has no way to reach it). DELETE /v1/sessions/:id: end one; its container is removed.
 */
export function registerSessionRoutes(app: FastifyInstance, deps: SessionRoutesDeps): void {
  app.get('/v1/sessions', async (): Promise<SessionList> => ({
    sessions: deps.sessions.list(),
    max: deps.sessions.maxOpen,
    idleTtlSec: deps.sessions.idleTtlSec,
  }));
  app.delete<{ Params: { id: string } }>('/v1/sessions/:id', async (request): Promise<SessionEndResponse> => {
    const { id } = request.params;
    if (!(await deps.sessions.end(id, 'it was ended on request (mcp-code-mode sessions end)'))) {
      const reason = deps.sessions.endReason(id);
      throw new ApiError('unknown_session', reason ? `session ${id} has already ended: ${reason}` : `no open session has the id ${id}`);
    }
    return { ended: true, id };
  });
}
