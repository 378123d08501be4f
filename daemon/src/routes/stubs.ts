import type { ServerStub } from '@mcp-code-mode/protocol';
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../errors.js';
import type { ToolHost } from '../rpc/tool-host.js';
import { makeAliases } from '../upstreams/aliases.js';
import { serverStub } from '../upstreams/stubs.js';
import { linkedSignal } from '@mcp-code-mode/client';

export interface StubRouteDeps {
  toolHost: ToolHost;
  /** How long the server may take to connect and list its tools (default 10 s, as for the index). */
  stubTimeoutMs?: number;
}

const STUB_TIMEOUT_MS = 10_000;

/**
 * GET /v1/stubs/:alias: one server's tools as the Python stub module that a run gets from
 * `query_tool_docs(server, detail="stub")`, made from the same metadata the run's `execute` carries.
 * The alias is the index's (GET /v1/index), which is a run's unless two names share one.
 */
export function registerStubRoute(app: FastifyInstance, deps: StubRouteDeps): void {
  app.get<{ Params: { alias: string } }>('/v1/stubs/:alias', async (request, reply): Promise<ServerStub> => {
    const names = deps.toolHost.discovered();
    const aliases = makeAliases(names);
    const alias = request.params.alias;
    const at = aliases.indexOf(alias);
    if (at < 0) {
      const known = aliases.length > 0 ? `the configured ones are ${aliases.join(', ')}` : 'no MCP servers are configured';
      throw new ApiError('unknown_server', `no MCP server has the alias ${JSON.stringify(alias)}; ${known}`);
    }
    const name = names[at]!;
    const gone = new AbortController();
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) gone.abort();
    });
    const timeoutMs = deps.stubTimeoutMs ?? STUB_TIMEOUT_MS;
    const expired = AbortSignal.timeout(timeoutMs);
    using linked = linkedSignal(gone.signal, expired); // not AbortSignal.any: see linkedSignal in @mcp-code-mode/client
    try {
      const [info] = await deps.toolHost.describe([name], linked.signal);
      if (!info) throw new Error('the tool host described no server');
      return { name, alias, stub: serverStub({ ...info, alias }) };
    } catch (err) {
      const why = expired.aborted ? `it did not list its tools within ${timeoutMs} ms` : (err as Error).message;
      throw new ApiError('server_unavailable', `MCP server ${JSON.stringify(name)} (${alias}) is unavailable: ${why}`, { cause: err });
    }
  });
}
