import { performance } from 'node:perf_hooks';
import { RunInputSchema, type AgentFrame, type ResultFrame, type RunResult, type ServerInfo, type SkillSource } from '@mcp-code-mode/protocol';
import type { Logger } from 'pino';
import type { SandboxPool } from '../pool/sandbox-pool.js';
import type { Sandbox } from '../sandbox/sandbox.js';
import type { SessionManager } from '../sessions/session-manager.js';
import { runInSession } from '../sessions/session-run.js';
import { handleSkillRpc, SKILL_METHODS } from '../skills/skill-rpc.js';
import type { SkillStore } from '../skills/skill-store.js';
import { OutputCollector, type StreamName } from './output.js';
import { deathError, diagnoseClosed, type SandboxDeath } from './sandbox-death.js';
import { RpcFailure, type ToolHost } from './tool-host.js';
import { describeServers, validationResult } from './validation-result.js';

export interface RunLimits {
  defaultTimeoutSec: number;
  maxTimeoutSec: number;
  maxOutputBytes: number;
  maxCodeBytes: number;
}

/** Optional services of a run: sessions (`session` in the input) and saved tools. */
export interface RunServices {
  sessions?: SessionManager<Sandbox>;
  skills?: SkillStore;
}

export interface RunOptions {
  signal?: AbortSignal;
  /** Output as it arrives (only the part within the cap). */
  onOutput?: (stream: StreamName, text: string) => void;
}

export type Outcome =
  | { kind: 'result'; frame: ResultFrame }
  | { kind: 'timeout' }
  | { kind: 'cancelled' }
  | { kind: 'closed' }
  | { kind: 'violation'; message: string };

/** Error types after which the sandbox may still be running user code: removed before answering. */
const ABNORMAL = new Set(['Timeout', 'Cancelled', 'ProtocolError', 'SandboxExited', 'SandboxLost', 'OutOfMemory']);

function seconds(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}


/** Runs one piece of code in a fresh sandbox and turns whatever happens into a RunResult value. */
export class RunExecutor {
  constructor(
    private readonly pool: SandboxPool,
    private readonly host: ToolHost,
    private readonly limits: RunLimits,
    private readonly log: Logger,
    private readonly services: RunServices = {},
  ) {}

  async run(input: unknown, options: RunOptions = {}): Promise<RunResult> {
    const started = performance.now();
    const parsed = RunInputSchema.safeParse(input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.path.join('.') || 'input';
      const message = issue.code === 'unrecognized_keys' ? `unknown field(s) ${issue.keys.join(', ')}` : `${field}: ${issue.message}`;
      return validationResult(message, started);
    }
    const { code, servers, session } = parsed.data;
    const codeBytes = Buffer.byteLength(code, 'utf8');
    if (codeBytes > this.limits.maxCodeBytes) {
      return validationResult(`code: ${codeBytes} bytes is over the ${this.limits.maxCodeBytes}-byte limit (MCP_BRIDGE_MAX_CODE_BYTES)`, started);
    }
    const timeoutSec = Math.min(Math.max(parsed.data.timeout ?? this.limits.defaultTimeoutSec, 1), this.limits.maxTimeoutSec);
    const requested = [...new Set(servers)];
    const control = new AbortController();
    const abortRun = (): void => control.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', abortRun, { once: true });
    try {
      if (session !== undefined) {
        if (!this.services.sessions) return validationResult('session: this daemon runs without sessions', started);
        const execute = (sandbox: Sandbox, infos: ServerInfo[]): Promise<RunResult> => this.execute(sandbox, code, infos, timeoutSec, started, control, options);
        return await runInSession(
          { sessions: this.services.sessions, host: this.host, ref: session, requested, timeoutSec, started, signal: control.signal },
          execute,
        ).finally(() => control.abort());
      }
      const described = await describeServers(this.host, requested, control.signal, started);
      if ('refused' in described) return described.refused;
      const { infos } = described;
      const sandbox = await this.pool.lease(control.signal);
      let result: RunResult | undefined;
      try {
        result = await this.execute(sandbox, code, infos, timeoutSec, started, control, options);
        return result;
      } finally {
        control.abort();
        const retire = (): Promise<void> => this.pool.retire(sandbox).catch((err) => this.log.warn({ err }, 'removing a sandbox failed'));
        // A sandbox that timed out, was cancelled or misbehaved is gone before the caller hears of
        // it. One whose code finished is removed after the answer is written (setImmediate runs
        // after the reply's microtasks), so not even the engine requests' set-up is on the caller's clock.
        if (!result || (result.error?.type !== undefined && ABNORMAL.has(result.error.type))) await retire();
        else setImmediate(() => void retire());
      }
    } finally {
      options.signal?.removeEventListener('abort', abortRun);
    }
  }

  private async skillSnapshot(): Promise<SkillSource[] | undefined> {
    if (!this.services.skills) return undefined;
    try {
      return await this.services.skills.snapshot();
    } catch (err) {
      // A broken saved-tools directory must not stop runs that do not need it.
      this.log.warn({ err, dir: this.services.skills.dir }, 'reading the saved tools failed');
      return undefined;
    }
  }

  private async execute(
    sandbox: Sandbox,
    code: string,
    servers: ServerInfo[],
    timeoutSec: number,
    started: number,
    control: AbortController,
    options: RunOptions,
  ): Promise<RunResult> {
    const skills = await this.skillSnapshot();
    const output = new OutputCollector(this.limits.maxOutputBytes);
    const allowed = new Set(servers.map((s) => s.name));
    const pendingRpcs = new Map<string, AbortController>();
    let toolCalls = 0;

    return new Promise<RunResult>((resolve) => {
      let executeId = '';
      let done = false;
      const finish = async (outcome: Outcome): Promise<void> => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        sandbox.off('frame', onFrame);
        sandbox.off('closed', onClosed);
        sandbox.off('violation', onViolation);
        control.signal.removeEventListener('abort', onAbort);
        for (const rpc of pendingRpcs.values()) rpc.abort();
        const death = outcome.kind === 'closed' ? await diagnoseClosed(sandbox) : undefined;
        resolve(this.toResult(outcome, output, { servers: [...allowed], toolCalls, timeoutSec, started, death }));
      };
      const onFrame = (frame: AgentFrame): void => {
        switch (frame.type) {
          case 'stream':
            if (frame.re !== executeId) return;
            {
              const kept = output.add(frame.name, frame.data);
              if (kept) options.onOutput?.(frame.name, kept);
            }
            return;
          case 'result':
            if (frame.re !== executeId) return;
            if (frame.dropped) {
              output.addDropped('stdout', frame.dropped.stdout);
              output.addDropped('stderr', frame.dropped.stderr);
            }
            void finish({ kind: 'result', frame });
            return;
          case 'rpc': {
            if (frame.method === 'call_tool') toolCalls++;
            const rpcControl = new AbortController();
            pendingRpcs.set(frame.id, rpcControl);
            const timeoutMs = typeof frame.params.timeoutMs === 'number' ? frame.params.timeoutMs : undefined;
            const store = this.services.skills;
            const handling =
              store && SKILL_METHODS.has(frame.method)
                ? handleSkillRpc(store, frame.method, frame.params)
                : this.host.handle(frame.method, frame.params, { allowed, signal: AbortSignal.any([control.signal, rpcControl.signal]), ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
            handling
              .then(
                (result) => sandbox.send({ type: 'rpc_result', re: frame.id, ok: true, result: result ?? null }),
                (err: unknown) =>
                  sandbox.send({
                    type: 'rpc_result',
                    re: frame.id,
                    ok: false,
                    error: err instanceof RpcFailure ? { code: err.code, message: err.message } : { code: 'internal', message: (err as Error).message ?? String(err) },
                  }),
              )
              .finally(() => pendingRpcs.delete(frame.id));
            return;
          }
          case 'rpc_cancel':
            pendingRpcs.get(frame.re)?.abort();
            return;
          default:
            return;
        }
      };
      const onClosed = (): void => void finish({ kind: 'closed' });
      const onViolation = (message: string): void => void finish({ kind: 'violation', message });
      const onAbort = (): void => void finish({ kind: 'cancelled' });
      sandbox.on('frame', onFrame);
      sandbox.on('closed', onClosed);
      sandbox.on('violation', onViolation);
      control.signal.addEventListener('abort', onAbort, { once: true });
      const timer = setTimeout(() => void finish({ kind: 'timeout' }), timeoutSec * 1000);
      timer.unref();
      if (sandbox.closed) return void finish({ kind: 'closed' });
      executeId = sandbox.send({
        type: 'execute',
        code,
        servers,
        discovered: this.host.discovered(),
        maxOutputBytes: this.limits.maxOutputBytes,
        ...(skills ? { skills } : {}),
      });
    });
  }

  private toResult(
    outcome: Outcome,
    output: OutputCollector,
    ctx: { servers: string[]; toolCalls: number; timeoutSec: number; started: number; death: SandboxDeath | undefined },
  ): RunResult {
    const durationMs = Math.round(performance.now() - ctx.started);
    const base = {
      stdout: output.lines('stdout'),
      stderr: output.lines('stderr'),
      servers: ctx.servers,
      durationMs,
      toolCalls: ctx.toolCalls,
      ...(output.truncated
        ? { truncated: { limitBytes: this.limits.maxOutputBytes, stdoutBytesDropped: output.dropped.stdout, stderrBytesDropped: output.dropped.stderr } }
        : {}),
    };
    switch (outcome.kind) {
      case 'result': {
        const { frame } = outcome;
        if (frame.status === 'success') return { ...base, status: 'success', summary: `Success in ${seconds(durationMs)}`, exitCode: frame.exitCode };
        const error = frame.error ?? { type: 'SystemExit', message: `exit code ${frame.exitCode}` };
        return { ...base, status: 'error', summary: `${error.type}: ${error.message}`.slice(0, 300), exitCode: frame.exitCode, error };
      }
      case 'timeout': {
        const message = `the code ran past its ${ctx.timeoutSec} s timeout; the sandbox was killed (output so far is kept)`;
        return { ...base, status: 'timeout', summary: `Timed out after ${ctx.timeoutSec} s`, exitCode: null, error: { type: 'Timeout', message } };
      }
      case 'cancelled':
        return { ...base, status: 'error', summary: 'Cancelled', exitCode: null, error: { type: 'Cancelled', message: 'the run was cancelled by the client; its sandbox was killed' } };
      case 'closed': {
        const { summary, type, message } = deathError(ctx.death ?? { kind: 'exited', exitCode: null });
        return { ...base, status: 'error', summary, exitCode: null, error: { type, message } };
      }
      case 'violation':
        return {
          ...base,
          status: 'error',
          summary: 'Sandbox protocol violation',
          exitCode: null,
          error: { type: 'ProtocolError', message: `the sandbox sent a bad frame and was killed: ${outcome.message}` },
        };
    }
  }
}
