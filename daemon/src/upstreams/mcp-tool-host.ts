import {
  CallToolParamsSchema,
  formatIssues,
  GetPromptParamsSchema,
  QueryToolDocsParamsSchema,
  ReadResourceParamsSchema,
  SearchToolDocsParamsSchema,
  ServerParamsSchema,
  type ConfigProblemInfo as ConfigProblem,
  type ReloadResult,
  type ServerInfo,
  type SkippedServerInfo as SkippedServer,
} from '@mcp-code-mode/protocol';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { DiscoveryReport } from '../config/discover.js';
import { RpcFailure, type RpcContext } from '../rpc/rpc-failure.js';
import type { ServerStatus, ToolHost } from '../rpc/tool-host.js';
import { makeAliases } from './aliases.js';
import { ArgumentValidator } from './arg-validator.js';
import type { CallOptions, UpstreamConnection } from './connection.js';
import { ToolSearch } from './docs-search.js';
import { ServerRegistry, type ConnectionFactory } from './server-registry.js';
import { summarize, toolDoc, type ToolRef } from './tool-docs.js';

export interface McpToolHostOptions {
  report: DiscoveryReport;
  log: Logger;
  /** Discovery again, for reload; without it the host cannot reload. */
  rediscover?: () => Promise<DiscoveryReport>;
  /** Per-call limit when the sandbox sets none. */
  callTimeoutMs?: number;
  connectionFactory?: ConnectionFactory;
}

const SANDBOX_TIMEOUT_GRACE_MS = 1000;

const METHODS = ['call_tool', 'list_servers', 'list_tools', 'query_tool_docs', 'search_tool_docs', 'list_resources', 'read_resource', 'list_prompts', 'get_prompt'];

function parse<S extends z.ZodType>(schema: S, params: Record<string, unknown>, method: string): z.output<S> {
  const parsed = schema.safeParse(params);
  if (parsed.success) return parsed.data;
  throw new RpcFailure('invalid_request', `${method}: ${formatIssues(parsed.error, { root: 'params', first: true })}`);
}

/** Every page of a paginated MCP list. */
async function listAll<T>(page: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor?: string | undefined }>): Promise<T[]> {
  const all: T[] = [];
  let cursor: string | undefined;
  do {
    const result = await page(cursor);
    all.push(...result.items);
    cursor = result.nextCursor;
  } while (cursor);
  return all;
}

/**
 * The ToolHost of real MCP servers: metadata for the sandbox's proxies, and every RPC method of
 * docs/PROTOCOL.md. Every method that names a server checks the run's allowlist first, whatever
 * the frame claims; tool arguments are checked against the tool's schema before they leave.
 */
export class McpToolHost implements ToolHost {
  private readonly registry: ServerRegistry;
  private readonly log: Logger;
  private readonly rediscover: (() => Promise<DiscoveryReport>) | undefined;
  private readonly callTimeoutMs: number;
  private readonly validator: ArgumentValidator;
  private readonly search = new ToolSearch();
  /** Each tool list's refs, by the server alias a run gave it: the aliases of a list are made once. */
  private readonly refsCache = new WeakMap<Tool[], Map<string, ToolRef[]>>();

  constructor(options: McpToolHostOptions) {
    this.log = options.log.child({ component: 'mcp' });
    this.registry = new ServerRegistry(options.report, this.log, options.connectionFactory);
    this.rediscover = options.rediscover;
    this.callTimeoutMs = options.callTimeoutMs ?? 60_000;
    this.validator = new ArgumentValidator(this.log);
  }

  discovered(): string[] {
    return this.registry.names();
  }

  async describe(servers: string[], signal: AbortSignal): Promise<ServerInfo[]> {
    for (const name of servers) this.registry.connection(name);
    const aliases = makeAliases(servers);
    return Promise.all(
      servers.map(async (name, i): Promise<ServerInfo> => {
        const connection = this.registry.connection(name);
        const tools = await connection.tools(signal);
        const toolAliases = makeAliases(tools.map((t) => t.name));
        const description = this.registry.entry(name)?.config.description ?? summarize(connection.instructions());
        return {
          name,
          alias: aliases[i]!,
          ...(description ? { description } : {}),
          tools: tools.map((tool, j) => ({
            name: tool.name,
            alias: toolAliases[j]!,
            ...(tool.description !== undefined ? { description: tool.description } : {}),
            inputSchema: tool.inputSchema as Record<string, unknown>,
          })),
        };
      }),
    );
  }

  async handle(method: string, params: Record<string, unknown>, ctx: RpcContext): Promise<unknown> {
    switch (method) {
      case 'call_tool':
        return this.callTool(parse(CallToolParamsSchema, params, method), ctx);
      case 'list_servers':
        return this.registry.names();
      case 'list_tools': {
        const { server } = parse(ServerParamsSchema, params, method);
        const tools = await this.allowed(server, ctx).tools(ctx.signal);
        return tools.map((t) => ({ name: t.name, description: t.description ?? '', inputSchema: t.inputSchema }));
      }
      case 'query_tool_docs': {
        const p = parse(QueryToolDocsParamsSchema, params, method);
        const { refs } = await this.catalog(p.server, ctx);
        if (p.tool === undefined) return refs.map((r) => toolDoc(r, p.detail));
        return [toolDoc(this.findTool(p.server, refs, p.tool), p.detail)];
      }
      case 'search_tool_docs': {
        const p = parse(SearchToolDocsParamsSchema, params, method);
        const catalogs = await Promise.all([...ctx.allowed].map((server) => this.catalog(server, ctx)));
        const hits = this.search.search(p.query, catalogs.map((c) => ({ server: c.server, tools: c.tools })), p.limit);
        return hits.map((hit) => {
          const ref = catalogs.find((c) => c.server === hit.server)!.refs.find((r) => r.tool === hit.tool)!;
          return { ...toolDoc(ref, p.detail), score: hit.score };
        });
      }
      case 'list_resources': {
        const { server } = parse(ServerParamsSchema, params, method);
        const connection = this.allowed(server, ctx);
        return connection.request(`listing the resources of "${server}"`, this.limits(ctx), async (client, options) => {
          if (!client.getServerCapabilities()?.resources) return [];
          return listAll(async (cursor) => {
            const page = await client.listResources(cursor ? { cursor } : {}, options);
            return { items: page.resources, nextCursor: page.nextCursor };
          });
        });
      }
      case 'read_resource': {
        const p = parse(ReadResourceParamsSchema, params, method);
        const connection = this.allowed(p.server, ctx);
        return connection.request(`reading ${p.uri} from "${p.server}"`, this.limits(ctx), (client, options) => client.readResource({ uri: p.uri }, options));
      }
      case 'list_prompts': {
        const { server } = parse(ServerParamsSchema, params, method);
        const connection = this.allowed(server, ctx);
        return connection.request(`listing the prompts of "${server}"`, this.limits(ctx), async (client, options) => {
          if (!client.getServerCapabilities()?.prompts) return [];
          return listAll(async (cursor) => {
            const page = await client.listPrompts(cursor ? { cursor } : {}, options);
            return { items: page.prompts, nextCursor: page.nextCursor };
          });
        });
      }
      case 'get_prompt': {
        const p = parse(GetPromptParamsSchema, params, method);
        const connection = this.allowed(p.server, ctx);
        return connection.request(`prompt ${p.server}.${p.name}`, this.limits(ctx), (client, options) => client.getPrompt({ name: p.name, arguments: p.arguments }, options));
      }
      default:
        throw new RpcFailure('unknown_method', `unknown RPC method ${JSON.stringify(method)}; the methods are ${METHODS.join(', ')}`);
    }
  }

  /** The connection of a server this run may use; the allowlist is checked before anything else. */
  private allowed(server: string, ctx: RpcContext): UpstreamConnection {
    if (!ctx.allowed.has(server)) {
      const loaded = [...ctx.allowed];
      throw new RpcFailure(
        'server_not_allowed',
        `MCP server ${JSON.stringify(server)} is not available to this run; list it in run_python's \`servers\` (this run has: ${loaded.length > 0 ? loaded.join(', ') : 'none'})`,
      );
    }
    return this.registry.connection(server);
  }

  private limits(ctx: RpcContext): CallOptions {
    return { signal: ctx.signal, timeoutMs: ctx.timeoutMs ?? this.callTimeoutMs };
  }

  /** The tools of an allowed server (the cached list itself) with the aliases the sandbox knows them by. */
  private async catalog(server: string, ctx: RpcContext): Promise<{ server: string; tools: Tool[]; refs: ToolRef[] }> {
    const tools = await this.allowed(server, ctx).tools(ctx.signal);
    // The run's server aliases were made from its servers in order, and ctx.allowed keeps that order.
    const names = [...ctx.allowed];
    const serverAlias = makeAliases(names)[names.indexOf(server)]!;
    // Made once per tool list (a connection keeps its list until the server says it changed), not per call.
    let byAlias = this.refsCache.get(tools);
    if (!byAlias) this.refsCache.set(tools, (byAlias = new Map()));
    let refs = byAlias.get(serverAlias);
    if (!refs) {
      const toolAliases = makeAliases(tools.map((t) => t.name));
      refs = tools.map((tool, i) => ({ server, serverAlias, tool, toolAlias: toolAliases[i]! }));
      byAlias.set(serverAlias, refs);
    }
    return { server, tools, refs };
  }

  /** A tool by name, or by the alias sandbox code sees (`get_sum` for `get-sum`). */
  private findTool(server: string, refs: ToolRef[], name: string): ToolRef {
    const ref = refs.find((r) => r.tool.name === name) ?? refs.find((r) => r.toolAlias === name);
    if (ref) return ref;
    throw new RpcFailure('unknown_tool', `MCP server ${JSON.stringify(server)} has no tool ${JSON.stringify(name)}; its tools: ${refs.map((r) => r.tool.name).join(', ') || 'none'}`);
  }

  async tool(server: string, name: string, ctx: RpcContext): Promise<{ name: string; readOnly: boolean }> {
    const { tool } = this.findTool(server, (await this.catalog(server, ctx)).refs, name);
    return { name: tool.name, readOnly: tool.annotations?.readOnlyHint === true };
  }

  private async callTool(p: z.output<typeof CallToolParamsSchema>, ctx: RpcContext): Promise<unknown> {
    const connection = this.allowed(p.server, ctx);
    const { tool } = this.findTool(p.server, (await this.catalog(p.server, ctx)).refs, p.tool);
    this.validator.check(p.server, tool, p.arguments);
    // A per-call timeout set in the sandbox is enforced there first (TimeoutError, then rpc_cancel,
    // which aborts ctx.signal); the daemon's own limit is only the backstop, so it waits a little
    // longer rather than racing the sandbox's clock with a different error.
    const sandboxMs = ctx.timeoutMs ?? p.timeoutMs;
    const timeoutMs = sandboxMs !== undefined ? sandboxMs + SANDBOX_TIMEOUT_GRACE_MS : this.callTimeoutMs;
    return connection.request(`${p.server}.${tool.name}`, { signal: ctx.signal, timeoutMs }, (client, options) =>
      client.callTool({ name: tool.name, arguments: p.arguments }, undefined, options),
    );
  }

  status(): { servers: ServerStatus[]; problems: ConfigProblem[]; skipped: SkippedServer[] } {
    return this.registry.status();
  }

  async reload(): Promise<ReloadResult> {
    if (!this.rediscover) return { applied: false, message: 'this daemon has no configuration source to reload', servers: this.registry.names(), problems: [] };
    return this.registry.apply(await this.rediscover());
  }

  close(): Promise<void> {
    return this.registry.close();
  }
}
