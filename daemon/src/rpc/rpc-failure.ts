/** An error that the sandbox sees as `MCPError(code, message)`; never crashes a run. */
export class RpcFailure extends Error {
  constructor(readonly code: string, message: string) {
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
