import type { AgentFrame, RpcFrame, RunAttachment, ServerInfo, SkillSource } from '@mcp-code-mode/protocol';
import { RpcFailure } from '../rpc/rpc-failure.js';
import type { RpcRouter } from '../rpc/rpc-router.js';
import type { Sandbox } from '../sandbox/sandbox.js';
import { AttachmentCollector, type AttachmentLimits } from './attachments.js';
import { OutputCollector, type StreamName } from './output.js';
import { outcomeToResult, type Ended, type Outcome } from './results.js';

/** Everything one run on one sandbox needs: the loop's single context. */
export interface RunContext {
  sandbox: Sandbox;
  code: string;
  /** Metadata of the servers this run may call: its allowlist. */
  servers: ServerInfo[];
  /** Names of every configured server (for `runtime.discovered_servers()`). */
  discovered: string[];
  skills?: SkillSource[] | undefined;
  timeoutSec: number;
  maxOutputBytes: number;
  /** MCP_BRIDGE_MAX_TOOL_CALLS and MCP_BRIDGE_MAX_CONCURRENT_CALLS. */
  maxToolCalls: number;
  maxConcurrentCalls: number;
  /** performance.now() when the run was asked for. */
  started: number;
  /** Aborted when the caller cancels; the loop then ends as cancelled. */
  signal: AbortSignal;
  router: RpcRouter;
  onOutput?: ((stream: StreamName, text: string) => void) | undefined;
  /** The caps on images and exports; absent: the code may return none. */
  attachmentLimits?: AttachmentLimits | undefined;
  /** The data of each image or export kept, as it arrives. */
  onAttachment?: ((attachment: RunAttachment) => void) | undefined;
}

/**
 * The frame loop of one run: sends `execute`, collects output, answers the sandbox's RPCs through
 * the router within the run's budgets, and ends on the result, the timeout, the caller's abort, the
 * sandbox's death or a protocol violation. Whatever happens, the answer is a value.
 */
export class RunLoop {
  private readonly output: OutputCollector;
  private readonly attachments: AttachmentCollector;
  private readonly allowed: ReadonlySet<string>;
  private readonly pending = new Map<string, AbortController>();
  /** call_tool RPCs waiting for one of the concurrent slots, in order. */
  private readonly waiting: (() => void)[] = [];
  private inFlight = 0;
  private toolCalls = 0;
  private executeId = '';
  private done = false;
  private timer: NodeJS.Timeout | undefined;
  private resolve!: (ended: Ended) => void;

  constructor(private readonly ctx: RunContext) {
    this.output = new OutputCollector(ctx.maxOutputBytes);
    this.attachments = new AttachmentCollector(ctx.attachmentLimits ?? { maxImages: 0, maxImageBytes: 1, maxExportBytes: 0 }, ctx.onAttachment);
    this.allowed = new Set(ctx.servers.map((s) => s.name));
  }

  run(): Promise<Ended> {
    const { sandbox, signal } = this.ctx;
    const ended = new Promise<Ended>((resolve) => (this.resolve = resolve));
    sandbox.on('frame', this.onFrame);
    sandbox.on('closed', this.onClosed);
    sandbox.on('violation', this.onViolation);
    signal.addEventListener('abort', this.onAbort, { once: true });
    this.timer = setTimeout(() => this.finish({ kind: 'timeout' }), this.ctx.timeoutSec * 1000);
    this.timer.unref();
    if (signal.aborted) this.finish({ kind: 'cancelled' });
    else if (sandbox.closed) this.onClosed();
    else {
      try {
        this.executeId = sandbox.send({
          type: 'execute',
          code: this.ctx.code,
          servers: this.ctx.servers,
          discovered: this.ctx.discovered,
          maxOutputBytes: this.ctx.maxOutputBytes,
          ...(this.ctx.skills ? { skills: this.ctx.skills } : {}),
          ...(this.ctx.attachmentLimits ? { attachments: this.ctx.attachmentLimits } : {}),
        });
      } catch (err) {
        // A frame the sandbox would refuse (over the channel's cap): nothing ran, the sandbox is sound.
        this.finish({ kind: 'unsent', message: (err as Error).message });
      }
    }
    return ended;
  }

  private readonly onClosed = (): void => {
    if (!this.end()) return;
    // The run is over for the sandbox at once; the runtime is asked why while the answer waits.
    void this.ctx.sandbox.diagnose().then(
      (death) => this.settle({ kind: 'closed', death }),
      () => this.settle({ kind: 'closed', death: { kind: 'lost' } }),
    );
  };

  private readonly onViolation = (message: string): void => this.finish({ kind: 'violation', message });
  private readonly onAbort = (): void => this.finish({ kind: 'cancelled' });

  private readonly onFrame = (frame: AgentFrame): void => {
    switch (frame.type) {
      case 'stream': {
        if (frame.re !== this.executeId) return;
        const kept = this.output.add(frame.name, frame.data);
        if (kept) this.ctx.onOutput?.(frame.name, kept);
        return;
      }
      case 'result':
        if (frame.re !== this.executeId) return;
        if (frame.dropped) {
          this.output.addDropped('stdout', frame.dropped.stdout);
          this.output.addDropped('stderr', frame.dropped.stderr);
        }
        this.finish({ kind: 'result', frame });
        return;
      case 'rpc':
        void this.answer(frame);
        return;
      case 'attachment':
        if (frame.re === this.executeId) this.attachments.add(frame);
        return;
      case 'rpc_cancel':
        this.pending.get(frame.re)?.abort();
        return;
      default:
        return;
    }
  };

  /** One RPC from the sandbox, answered with its result or an error the code sees as MCPError. */
  private async answer(frame: RpcFrame): Promise<void> {
    const control = new AbortController();
    this.pending.set(frame.id, control);
    let slot = false;
    try {
      if (frame.method === 'call_tool') {
        this.toolCalls++;
        if (this.toolCalls > this.ctx.maxToolCalls) {
          throw new RpcFailure(
            'budget_exceeded',
            `this run has made ${this.toolCalls - 1} tool calls, the most MCP_BRIDGE_MAX_TOOL_CALLS (${this.ctx.maxToolCalls}) allows; ask for more per call (a batch, a filter, a page) or raise the variable`,
          );
        }
        slot = await this.slot(control.signal);
      }
      const timeoutMs = typeof frame.params.timeoutMs === 'number' ? frame.params.timeoutMs : undefined;
      const result = await this.ctx.router.handle(frame.method, frame.params, {
        allowed: this.allowed,
        signal: AbortSignal.any([this.ctx.signal, control.signal]),
        ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      });
      if (!this.done) this.ctx.sandbox.send({ type: 'rpc_result', re: frame.id, ok: true, result: result ?? null });
    } catch (err) {
      const error = err instanceof RpcFailure ? { code: err.code, message: err.message } : { code: 'internal', message: (err as Error).message ?? String(err) };
      if (!this.done) this.ctx.sandbox.send({ type: 'rpc_result', re: frame.id, ok: false, error });
    } finally {
      this.pending.delete(frame.id);
      if (slot) this.freeSlot();
    }
  }

  /** Waits for one of MCP_BRIDGE_MAX_CONCURRENT_CALLS slots; false when the call was cancelled first. */
  private slot(signal: AbortSignal): Promise<boolean> {
    if (this.inFlight < this.ctx.maxConcurrentCalls) {
      this.inFlight++;
      return Promise.resolve(true);
    }
    return new Promise<boolean>((resolve, reject) => {
      const go = (): void => {
        signal.removeEventListener('abort', cancel);
        this.inFlight++;
        resolve(true);
      };
      const cancel = (): void => {
        const at = this.waiting.indexOf(go);
        if (at >= 0) this.waiting.splice(at, 1);
        reject(new RpcFailure('cancelled', 'the call was cancelled while it waited for a free slot (MCP_BRIDGE_MAX_CONCURRENT_CALLS)'));
      };
      signal.addEventListener('abort', cancel, { once: true });
      this.waiting.push(go);
    });
  }

  private freeSlot(): void {
    this.inFlight--;
    this.waiting.shift()?.();
  }

  /** Stops the loop once: no more frames, timer or abort; pending RPCs are cancelled. False if it had stopped. */
  private end(): boolean {
    if (this.done) return false;
    this.done = true;
    const { sandbox, signal } = this.ctx;
    clearTimeout(this.timer);
    sandbox.off('frame', this.onFrame);
    sandbox.off('closed', this.onClosed);
    sandbox.off('violation', this.onViolation);
    signal.removeEventListener('abort', this.onAbort);
    for (const rpc of this.pending.values()) rpc.abort();
    return true;
  }

  private finish(outcome: Outcome): void {
    if (this.end()) this.settle(outcome);
  }

  private settle(outcome: Outcome): void {
    this.resolve(
      outcomeToResult(outcome, {
        output: this.output,
        maxOutputBytes: this.ctx.maxOutputBytes,
        servers: [...this.allowed],
        toolCalls: Math.min(this.toolCalls, this.ctx.maxToolCalls),
        timeoutSec: this.ctx.timeoutSec,
        started: this.ctx.started,
        attachments: this.attachments.metadata(),
      }),
    );
  }
}
