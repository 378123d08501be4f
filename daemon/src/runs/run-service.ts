import { performance } from 'node:perf_hooks';
import { formatIssues, RunInputSchema, unknownRunFields, type ApprovalClosedEvent, type ApprovalEvent, type AuditCall, type RunAttachment, type RunResult, type ServerInfo, type SkillSource } from '@mcp-code-mode/protocol';
import type { Logger } from 'pino';
import type { ApprovalBroker } from '../approvals/approver.js';
import { auditCode, type AuditLog } from '../approvals/audit-log.js';
import type { ApprovalSettings } from '../approvals/settings.js';
import type { SandboxPool } from '../pool/sandbox-pool.js';
import { RpcFailure } from '../rpc/rpc-failure.js';
import type { RpcRouter } from '../rpc/rpc-router.js';
import type { Sandbox } from '../sandbox/sandbox.js';
import { leaseSession, resolveSession, SessionRefusal, type SessionTarget } from '../sessions/session-lease.js';
import type { SessionManager } from '../sessions/session-manager.js';
import type { SkillStore } from '../skills/skill-store.js';
import { annotateSummary, clampTimeout, ignoredFieldsNote } from './clamp.js';
import type { AttachmentLimits } from './attachments.js';
import type { StreamName } from './output.js';
import { validationResult, type Ended } from './results.js';
import { RunLoop, type RunContext } from './run-loop.js';
import { fateOf, UNKNOWN } from './sandbox-fate.js';

export interface RunLimits {
  defaultTimeoutSec: number;
  maxTimeoutSec: number;
  maxOutputBytes: number;
  maxCodeBytes: number;
  maxToolCalls: number;
  maxConcurrentCalls: number;
  /** MCP_BRIDGE_MAX_IMAGES & co.; absent: runs return no images or files. */
  attachments?: AttachmentLimits;
}

export interface RunServiceDeps {
  pool: SandboxPool;
  router: RpcRouter;
  limits: RunLimits;
  log: Logger;
  /** Absent: runs with `session` are refused. */
  sessions?: SessionManager<Sandbox> | undefined;
  /** Saved tools, offered to every run; absent: none. */
  skills?: SkillStore | undefined;
  /** Absent: no call waits for approval. */
  approvals?: { settings: ApprovalSettings; broker: ApprovalBroker } | undefined;
  /** Absent: runs leave no audit line. */
  audit?: AuditLog | undefined;
}

export interface RunOptions {
  signal?: AbortSignal;
  /** Output as it arrives (only the part within the cap). */
  onOutput?: (stream: StreamName, text: string) => void;
  /** The data of each image and exported file, as it arrives (the result holds their metadata). */
  onAttachment?: (attachment: RunAttachment) => void;
  /** Questions for the user, and their withdrawal; without it nobody can be asked. */
  onApproval?: (event: ApprovalEvent | ApprovalClosedEvent) => void;
  /** The caller can put questions to its user (the MCP client declared `elicitation`). */
  canElicit?: boolean;
  /** The MCP client's name, for the audit log. */
  client?: string;
}

/** A run's hold on its sandbox, whichever gave it: released with the outcome, which may decorate the result. */
interface RunLease {
  readonly sandbox: Sandbox;
  release(ended: Ended): Promise<RunResult>;
  /** The run failed inside the daemon: the sandbox goes (and its session with it). */
  abandon(): Promise<void>;
}

/** The result of a run whose session just ended, told so that the model starts a new one. */
function withEndedSession(result: RunResult, reason: string): RunResult {
  const advice = `The session has ended (${reason}); its variables and files are gone. Start a new one with session: "new".`;
  const error = result.error ?? { type: 'SessionEnded', message: '' };
  return { ...result, summary: `${result.summary} (session ended)`, error: { ...error, message: error.message ? `${error.message}. ${advice}` : advice } };
}

/**
 * One run, straight through: check the input, resolve its servers once, take a lease (from the pool,
 * or from a session), run the frame loop, release the lease with the outcome. Every way a run can go
 * is a RunResult value; only what stops a run before it can start (busy, shutting down, no runtime)
 * is thrown, for the control API's catalogue.
 */
export class RunService {
  constructor(private readonly deps: RunServiceDeps) {}

  async run(input: unknown, options: RunOptions = {}): Promise<RunResult> {
    const started = performance.now();
    const ignored = unknownRunFields(input);
    if (ignored.length > 0) this.deps.log.info({ fields: ignored }, 'run input fields ignored');
    const time = new Date().toISOString();
    const calls: AuditCall[] = [];
    const ran = await this.runOnce(input, options, started, calls);
    // What the model should know of how its input was taken: a timeout lowered, a misspelt field.
    const result = { ...ran, summary: annotateSummary(ran.summary, [this.timeoutNote(input), ignoredFieldsNote(ignored)]) };
    const { audit } = this.deps;
    if (audit && typeof (input as { code?: unknown })?.code === 'string') {
      void audit.append({
        time,
        ...(options.client !== undefined ? { client: options.client } : {}),
        ...(result.session?.id !== undefined ? { session: result.session.id } : {}),
        servers: result.servers,
        ...auditCode((input as { code: string }).code),
        calls,
        status: result.status,
        durationMs: Math.round(result.durationMs),
      });
    }
    return result;
  }

  private timeoutNote(input: unknown): string | undefined {
    const requested = typeof input === 'object' && input !== null ? (input as { timeout?: unknown }).timeout : undefined;
    return typeof requested === 'number' && Number.isInteger(requested) && requested > 0 ? clampTimeout(requested, this.deps.limits).note : undefined;
  }

  private async runOnce(input: unknown, options: RunOptions, started: number, calls: AuditCall[]): Promise<RunResult> {
    const { limits } = this.deps;
    const parsed = RunInputSchema.safeParse(input);
    if (!parsed.success) return validationResult(formatIssues(parsed.error, { root: 'input', first: true }), started);
    const { code, servers, session } = parsed.data;
    const codeBytes = Buffer.byteLength(code, 'utf8');
    if (codeBytes > limits.maxCodeBytes) {
      return validationResult(`code: ${codeBytes} bytes is over the ${limits.maxCodeBytes}-byte limit (MCP_BRIDGE_MAX_CODE_BYTES)`, started);
    }
    const { timeoutSec } = clampTimeout(parsed.data.timeout, limits);
    const requested = [...new Set(servers)];
    const control = new AbortController();
    const abortRun = (): void => control.abort(options.signal?.reason);
    if (options.signal?.aborted) abortRun();
    options.signal?.addEventListener('abort', abortRun, { once: true });
    try {
      let target: SessionTarget | undefined;
      if (session !== undefined) {
        if (!this.deps.sessions) return validationResult('session: this daemon runs without sessions', started);
        try {
          target = resolveSession(this.deps.sessions, session, requested);
        } catch (err) {
          if (err instanceof SessionRefusal) return validationResult(`${err.field}: ${err.message}`, started);
          throw err;
        }
      }
      let infos: ServerInfo[];
      try {
        infos = await this.deps.router.host.describe(target?.servers ?? requested, control.signal);
      } catch (err) {
        if (err instanceof RpcFailure) return validationResult(`servers: ${err.message}`, started);
        throw err;
      }
      let lease: RunLease;
      try {
        lease = target ? await this.sessionLease(target, timeoutSec, control.signal) : await this.poolLease(control.signal);
      } catch (err) {
        if (err instanceof SessionRefusal) return validationResult(`${err.field}: ${err.message}`, started);
        throw err;
      }
      // The caller left while this run waited for its sandbox (a session's earlier runs): nothing ran.
      if (control.signal.aborted) {
        return lease.release({ result: { ...validationResult('the run was cancelled before it started', started), status: 'error', summary: 'Cancelled' } });
      }
      let ended: Ended;
      try {
        ended = await new RunLoop({
          sandbox: lease.sandbox,
          code,
          servers: infos,
          discovered: this.deps.router.host.discovered(),
          skills: await this.skillSnapshot(),
          timeoutSec,
          maxOutputBytes: limits.maxOutputBytes,
          maxToolCalls: limits.maxToolCalls,
          maxConcurrentCalls: limits.maxConcurrentCalls,
          started,
          signal: control.signal,
          router: this.deps.router,
          onOutput: options.onOutput,
          attachmentLimits: limits.attachments,
          onAttachment: options.onAttachment,
          approvals: this.approvalOptions(options),
          onToolCall: (call) => calls.push(call),
        }).run();
      } catch (err) {
        // A loop that failed leaves its sandbox in an unknown state.
        control.abort();
        await lease.abandon();
        throw err;
      }
      control.abort();
      return await lease.release(ended);
    } finally {
      options.signal?.removeEventListener('abort', abortRun);
    }
  }

  private approvalOptions(options: RunOptions): RunContext['approvals'] {
    const approvals = this.deps.approvals;
    if (!approvals) return undefined;
    const { settings, broker } = approvals;
    const emit = options.onApproval;
    return {
      mode: settings.mode,
      rules: settings.rules(),
      canElicit: options.canElicit === true && emit !== undefined,
      timeoutMs: settings.timeoutMs,
      broker,
      emit: (event) => emit?.(event),
    };
  }

  private async poolLease(signal: AbortSignal): Promise<RunLease> {
    const lease = await this.deps.pool.lease(signal);
    return {
      sandbox: lease.sandbox,
      release: async (ended) => {
        await lease.release(fateOf(ended.daemonError).retireAtOnce);
        return ended.result;
      },
      abandon: () => lease.release(UNKNOWN.retireAtOnce),
    };
  }

  private async sessionLease(target: SessionTarget, timeoutSec: number, signal: AbortSignal): Promise<RunLease> {
    const lease = await leaseSession(this.deps.sessions!, target, signal);
    return {
      sandbox: lease.sandbox,
      release: async (ended) => {
        await lease.release(fateOf(ended.daemonError).endsSession?.(timeoutSec));
        const state = lease.describe();
        if (state.state === 'ended') return { ...withEndedSession(ended.result, state.reason), session: state };
        return { ...ended.result, session: state };
      },
      abandon: () => lease.release(UNKNOWN.endsSession?.(timeoutSec)),
    };
  }

  private async skillSnapshot(): Promise<SkillSource[] | undefined> {
    const store = this.deps.skills;
    if (!store) return undefined;
    try {
      return await store.snapshot();
    } catch (err) {
      // A broken saved-tools directory must not stop runs that do not need it.
      this.deps.log.warn({ err, dir: store.dir }, 'reading the saved tools failed');
      return undefined;
    }
  }
}
