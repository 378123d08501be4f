import { performance } from 'node:perf_hooks';
import { CallBatchParamsSchema, CallToolParamsSchema, type AgentFrame, type AuditCall, type RpcFrame, type RunAttachment, type ServerInfo, type SkillSource } from '@mcp-code-mode/protocol';
import { RunApprovals, type RunApprovalsOptions, type Verdict } from '../approvals/approver.js';
import { previewArguments, sha256 } from '../approvals/preview.js';
import { RpcFailure } from '../rpc/rpc-failure.js';
import type { RpcRouter } from '../rpc/rpc-router.js';
import type { Sandbox } from '../sandbox/sandbox.js';
import { AttachmentCollector, type AttachmentLimits } from './attachments.js';
import { OutputCollector, type StreamName } from './output.js';
import { outcomeToResult, type Ended, type Outcome } from './results.js';
import { linkedSignal } from '@mcp-code-mode/client';

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
  /** Absent: no call waits for approval (as with MCP_BRIDGE_APPROVAL=off). */
  approvals?: Omit<RunApprovalsOptions, 'onWaiting'> | undefined;
  /** Told of every tool call, as the audit log keeps it. */
  onToolCall?: ((call: AuditCall) => void) | undefined;
}

/** One tool call's fields for the audit log, apart from its outcome. */
type CallRecord = Pick<AuditCall, 'server' | 'tool' | 'argumentsSha256' | 'arguments' | 'decision' | 'by'> & { started: number; at: string; batch?: number };

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
  /** The run's time left (ms) and when it runs out: the clock stops while a question waits for the user. */
  private remainingMs: number;
  private deadline = 0;
  private readonly approvals: RunApprovals | undefined;
  private resolve!: (ended: Ended) => void;

  constructor(private readonly ctx: RunContext) {
    this.output = new OutputCollector(ctx.maxOutputBytes);
    this.attachments = new AttachmentCollector(ctx.attachmentLimits ?? { maxImages: 0, maxImageBytes: 1, maxExportBytes: 0 }, ctx.onAttachment);
    this.allowed = new Set(ctx.servers.map((s) => s.name));
    this.remainingMs = ctx.timeoutSec * 1000;
    this.approvals = ctx.approvals ? new RunApprovals({ ...ctx.approvals, onWaiting: (waiting) => this.hold(waiting) }) : undefined;
  }

  private startClock(): void {
    this.deadline = performance.now() + this.remainingMs;
    this.timer = setTimeout(() => this.finish({ kind: 'timeout' }), this.remainingMs);
    this.timer.unref();
  }

  /** Stops the run's clock while the user is asked, and starts it again with the time that was left. */
  private hold(waiting: boolean): void {
    if (this.done) return;
    clearTimeout(this.timer);
    if (waiting) this.remainingMs = Math.max(0, this.deadline - performance.now());
    else this.startClock();
  }

  run(): Promise<Ended> {
    const { sandbox, signal } = this.ctx;
    const ended = new Promise<Ended>((resolve) => (this.resolve = resolve));
    sandbox.on('frame', this.onFrame);
    sandbox.on('closed', this.onClosed);
    sandbox.on('violation', this.onViolation);
    signal.addEventListener('abort', this.onAbort, { once: true });
    this.startClock();
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
    // Linked by hand, not AbortSignal.any: see linkedSignal in @mcp-code-mode/client (a tool call's signal must not outlive it).
    const linked = linkedSignal(this.ctx.signal, control.signal);
    const signal = linked.signal;
    try {
      const result =
        frame.method === 'call_tool'
          ? await this.callTool(frame.params, signal)
          : frame.method === 'call_batch'
            ? await this.callBatch(frame.params, signal)
            : await this.route(frame.method, frame.params, signal);
      if (!this.done) this.ctx.sandbox.send({ type: 'rpc_result', re: frame.id, ok: true, result: result ?? null });
    } catch (err) {
      const error = err instanceof RpcFailure ? { code: err.code, message: err.message } : { code: 'internal', message: (err as Error).message ?? String(err) };
      if (!this.done) this.ctx.sandbox.send({ type: 'rpc_result', re: frame.id, ok: false, error });
    } finally {
      linked.dispose();
      this.pending.delete(frame.id);
    }
  }

  private route(method: string, params: Record<string, unknown>, signal: AbortSignal): Promise<unknown> {
    const timeoutMs = typeof params.timeoutMs === 'number' ? params.timeoutMs : undefined;
    return this.ctx.router.handle(method, params, { allowed: this.allowed, signal, ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
  }

  /** Counts `n` calls against MCP_BRIDGE_MAX_TOOL_CALLS (a batch counts each of its items). */
  private budget(n: number): void {
    const before = this.toolCalls;
    this.toolCalls += n;
    if (this.toolCalls > this.ctx.maxToolCalls) {
      throw new RpcFailure(
        'budget_exceeded',
        `this run has made ${before} tool calls${n > 1 ? ` and a batch of ${n} would pass` : ','} the most MCP_BRIDGE_MAX_TOOL_CALLS (${this.ctx.maxToolCalls}) allows; ask for more per call (a batch, a filter, a page) or raise the variable`,
      );
    }
  }

  /**
   * The approval of calls of one tool, before any of them takes a slot (a question may wait for
   * minutes). Params the schema refuses skip it: the host refuses them too, and nothing is sent.
   */
  private async approve(server: string, tool: string, items: Record<string, unknown>[], signal: AbortSignal): Promise<{ verdict: Verdict; tool: string }> {
    if (!this.approvals) return { verdict: { allowed: true, decision: 'not_asked', by: 'none' }, tool };
    // The host resolves an alias to the tool's own name and says whether it is read-only; a host that
    // cannot say (none configured) treats every tool as one that writes.
    const facts = (await this.ctx.router.host.tool?.(server, tool, { allowed: this.allowed, signal })) ?? { name: tool, readOnly: false };
    return { verdict: await this.approvals.check(server, facts.name, facts.readOnly, items, signal), tool: facts.name };
  }

  private record(server: string, tool: string, args: unknown, verdict: Verdict, batch?: number): CallRecord {
    const json = JSON.stringify(args ?? {});
    return {
      at: new Date().toISOString(),
      started: performance.now(),
      server,
      tool,
      argumentsSha256: sha256(json),
      arguments: previewArguments(args, { maxChars: 2000 }),
      decision: verdict.decision,
      by: verdict.by,
      ...(batch !== undefined ? { batch } : {}),
    };
  }

  private told(call: CallRecord, outcome: AuditCall['outcome'], error?: string): void {
    const { started, ...rest } = call;
    this.ctx.onToolCall?.({ ...rest, outcome, ...(error !== undefined ? { error: error.slice(0, 500) } : {}), durationMs: Math.round(performance.now() - started) });
  }

  private async callTool(params: Record<string, unknown>, signal: AbortSignal): Promise<unknown> {
    this.budget(1);
    const parsed = CallToolParamsSchema.safeParse(params);
    if (!parsed.success) return this.withSlot(signal, () => this.route('call_tool', params, signal));
    const { server, arguments: args } = parsed.data;
    const { verdict, tool } = await this.approve(server, parsed.data.tool, [args], signal);
    const call = this.record(server, tool, args, verdict);
    if (!verdict.allowed) {
      this.told(call, 'denied', verdict.message);
      throw new RpcFailure('approval_denied', verdict.message ?? `${server}.${tool} was not approved`);
    }
    return this.traced(call, signal, () => this.withSlot(signal, () => this.route('call_tool', params, signal)));
  }

  /**
   * `call_batch`: one question for every item, then the calls at once (within the slots), answered
   * in order with a result or an error per item.
   */
  private async callBatch(params: Record<string, unknown>, signal: AbortSignal): Promise<unknown> {
    const parsed = CallBatchParamsSchema.safeParse(params);
    if (!parsed.success) throw new RpcFailure('invalid_request', `call_batch: ${parsed.error.issues[0]?.path.join('.') || 'params'}: ${parsed.error.issues[0]?.message}`);
    const { server, items, timeoutMs } = parsed.data;
    this.budget(items.length);
    const { verdict, tool } = await this.approve(server, parsed.data.tool, items, signal);
    if (!verdict.allowed) {
      for (const args of items) this.told(this.record(server, tool, args, verdict, items.length), 'denied', verdict.message);
      throw new RpcFailure('approval_denied', `${verdict.message ?? `${server}.${tool} was not approved`} (a batch of ${items.length} calls)`);
    }
    return Promise.all(
      items.map(async (args) => {
        const call = this.record(server, tool, args, verdict, items.length);
        try {
          const one = { server, tool, arguments: args, ...(timeoutMs !== undefined ? { timeoutMs } : {}) };
          return { ok: true, result: await this.traced(call, signal, () => this.withSlot(signal, () => this.route('call_tool', one, signal))) };
        } catch (err) {
          const error = err instanceof RpcFailure ? { code: err.code, message: err.message } : { code: 'internal', message: (err as Error).message ?? String(err) };
          return { ok: false, error };
        }
      }),
    );
  }

  private async traced<T>(call: CallRecord, signal: AbortSignal, run: () => Promise<T>): Promise<T> {
    try {
      const result = await run();
      const isError = typeof result === 'object' && result !== null && (result as { isError?: unknown }).isError === true;
      this.told(call, isError ? 'error' : 'ok');
      return result;
    } catch (err) {
      this.told(call, signal.aborted ? 'cancelled' : 'error', (err as Error).message);
      throw err;
    }
  }

  private async withSlot<T>(signal: AbortSignal, run: () => Promise<T>): Promise<T> {
    await this.slot(signal);
    try {
      return await run();
    } finally {
      this.freeSlot();
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
