import type { RpcErrorCode } from '@mcp-code-mode/protocol';

/**
 * An error that the sandbox sees as `MCPError(code, message)`; never crashes a run. Its code is
 * one of protocol's catalogue, so a new code cannot reach the sandbox without being listed there.
 */
export class RpcFailure extends Error {
  constructor(readonly code: RpcErrorCode, message: string) {
    super(message);
    this.name = 'RpcFailure';
  }
}

export interface RpcContext {
  /** The run's allowlist, fixed by the daemon; the sandbox cannot widen it. */
  allowed: ReadonlySet<string>;
  signal: AbortSignal;
  timeoutMs?: number;
}
