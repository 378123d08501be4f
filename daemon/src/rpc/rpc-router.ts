import { performance } from 'node:perf_hooks';
import type { SkillStore } from '../skills/skill-store.js';
import { RpcFailure, type RpcContext } from './rpc-failure.js';
import { handleSkillRpc, SKILL_METHODS } from './skill-methods.js';
import type { ToolHost } from './tool-host.js';

export type ToolCallOutcome = 'ok' | 'error' | 'cancelled';

export interface RpcRouterOptions {
  host: ToolHost;
  /** Saved tools; absent: their methods are refused like any unknown method. */
  skills?: SkillStore | undefined;
  /** Told of every finished `call_tool` (the tool-call latency metric). */
  onToolCall?: ((server: string, outcome: ToolCallOutcome, durationMs: number) => void) | undefined;
  now?: () => number;
}

/**
 * The one place an RPC from the sandbox goes: saved-tool methods to the skill store, the rest to the
 * tool host. It times tool calls for the metrics. The server label is only a name the run may use,
 * so sandbox code cannot grow the label set.
 */
export class RpcRouter {
  private readonly now: () => number;

  constructor(private readonly options: RpcRouterOptions) {
    this.now = options.now ?? (() => performance.now());
  }

  get host(): ToolHost {
    return this.options.host;
  }

  async handle(method: string, params: Record<string, unknown>, ctx: RpcContext): Promise<unknown> {
    const { skills, host, onToolCall } = this.options;
    if (SKILL_METHODS.has(method)) {
      if (!skills) throw new RpcFailure('unknown_method', `${method}: this daemon keeps no saved tools`);
      return handleSkillRpc(skills, method, params);
    }
    if (method !== 'call_tool' || !onToolCall) return host.handle(method, params, ctx);
    const server = typeof params.server === 'string' && ctx.allowed.has(params.server) ? params.server : 'unknown';
    const started = this.now();
    try {
      const result = await host.handle(method, params, ctx);
      const isError = typeof result === 'object' && result !== null && (result as { isError?: unknown }).isError === true;
      onToolCall(server, isError ? 'error' : 'ok', this.now() - started);
      return result;
    } catch (err) {
      onToolCall(server, ctx.signal.aborted ? 'cancelled' : 'error', this.now() - started);
      throw err;
    }
  }
}
