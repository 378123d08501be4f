import { randomUUID } from 'node:crypto';
import type { ApprovalClosedEvent, ApprovalDecider, ApprovalDecision, ApprovalEvent, ApprovalMode, AuditCall } from '@mcp-code-mode/protocol';
import { decide, NO_RULES, type ApprovalRules } from './policy.js';
import { previewArguments } from './preview.js';

/** How many arguments a batch's question shows. */
const PREVIEW_ITEMS = 3;

/**
 * The open questions of every run, by id: the control API's `POST /v1/runs/approvals/:id` answers
 * through it. Ids are random UUIDs, known only to the run's stream, and gone once answered.
 */
export class ApprovalBroker {
  private readonly open = new Map<string, (decision: ApprovalDecision) => void>();

  register(id: string, answer: (decision: ApprovalDecision) => void): () => void {
    this.open.set(id, answer);
    return () => this.open.delete(id);
  }

  /** False when no open question has this id. */
  answer(id: string, decision: ApprovalDecision): boolean {
    const answer = this.open.get(id);
    if (!answer) return false;
    this.open.delete(id);
    answer(decision);
    return true;
  }

  get size(): number {
    return this.open.size;
  }
}

/** The decision on one call (or one batch), as the run loop and the audit log need it. */
export interface Verdict {
  allowed: boolean;
  decision: AuditCall['decision'];
  by: AuditCall['by'];
  /** For a refusal: the message sandbox code sees in ApprovalDenied. */
  message?: string;
}

export interface RunApprovalsOptions {
  mode: ApprovalMode;
  rules?: ApprovalRules;
  canElicit: boolean;
  timeoutMs: number;
  broker: ApprovalBroker;
  /** Puts a question on the run's stream. */
  emit: (event: ApprovalEvent | ApprovalClosedEvent) => void;
  /** Told when the first question opens and when the last one closes (the run's clock stops meanwhile). */
  onWaiting?: (waiting: boolean) => void;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (timer: unknown) => void;
}

interface Question {
  decided: Promise<{ decision: ApprovalDecision; by: ApprovalDecider }>;
}

/**
 * The approvals of one run: asks through the run's stream when the policy says so, remembers
 * "allow this tool for the rest of this run", and lets calls of one tool that wait at the same
 * time share one question (a denial or a whole-run allowance covers them all; "allow once" covers
 * only the call it showed, so the others ask again).
 */
export class RunApprovals {
  private readonly allowedTools = new Set<string>();
  private readonly asking = new Map<string, Question>();
  private waiting = 0;
  private readonly setTimer: NonNullable<RunApprovalsOptions['setTimer']>;
  private readonly clearTimer: NonNullable<RunApprovalsOptions['clearTimer']>;

  constructor(private readonly options: RunApprovalsOptions) {
    this.setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms).unref());
    this.clearTimer = options.clearTimer ?? ((t) => clearTimeout(t as NodeJS.Timeout));
  }

  /** The decision on `items.length` calls of one tool (one for call_tool, the batch for call_batch). */
  async check(server: string, tool: string, readOnly: boolean, items: unknown[], signal: AbortSignal): Promise<Verdict> {
    const { mode, rules = NO_RULES, canElicit } = this.options;
    const verdict = decide(mode, { server, tool, readOnly, canElicit }, rules);
    if (verdict.action === 'run') return { allowed: true, decision: 'not_asked', by: 'none' };
    if (verdict.action === 'refuse') return { allowed: false, decision: 'refused', by: 'policy', message: verdict.message };
    const key = JSON.stringify([server, tool]);
    for (;;) {
      if (this.allowedTools.has(key)) return { allowed: true, decision: 'allowed_for_run', by: 'user' };
      const open = items.length === 1 ? this.asking.get(key) : undefined;
      if (open) {
        const shared = await open.decided;
        if (shared.decision === 'deny') return denied(server, tool, shared.by);
        continue; // allow_tool: allowed above; allow_once covered the other call only
      }
      const question = this.ask(server, tool, items, verdict.reason, signal);
      if (items.length === 1) this.asking.set(key, question);
      const { decision, by } = await question.decided;
      if (this.asking.get(key) === question) this.asking.delete(key);
      if (decision === 'deny') return denied(server, tool, by);
      if (decision === 'allow_tool') this.allowedTools.add(key);
      return { allowed: true, decision, by };
    }
  }

  private ask(server: string, tool: string, items: unknown[], reason: string, signal: AbortSignal): Question {
    const { broker, emit, timeoutMs } = this.options;
    const id = randomUUID();
    let settle!: (d: { decision: ApprovalDecision; by: ApprovalDecider }) => void;
    const decided = new Promise<{ decision: ApprovalDecision; by: ApprovalDecider }>((resolve) => (settle = resolve));
    let done = false;
    const close = (decision: ApprovalDecision, by: ApprovalDecider): void => {
      if (done) return;
      done = true;
      unregister();
      this.clearTimer(timer);
      signal.removeEventListener('abort', onAbort);
      // Not the user's answer: the shim withdraws its elicitation.
      if (by !== 'user') emit({ type: 'approval_closed', id, decision, by });
      if (--this.waiting === 0) this.options.onWaiting?.(false);
      settle({ decision, by });
    };
    const unregister = broker.register(id, (decision) => close(decision, 'user'));
    const timer = this.setTimer(() => close('deny', 'timeout'), timeoutMs);
    const onAbort = (): void => close('deny', 'run_ended');
    if (this.waiting++ === 0) this.options.onWaiting?.(true);
    emit({
      type: 'approval',
      id,
      server,
      tool,
      count: items.length,
      arguments: items.slice(0, PREVIEW_ITEMS).map((args) => previewArguments(args)),
      reason,
    });
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    return { decided };
  }
}

function denied(server: string, tool: string, by: ApprovalDecider): Verdict {
  const why =
    by === 'timeout'
      ? 'nobody answered the question in time (MCP_BRIDGE_APPROVAL_TIMEOUT)'
      : by === 'run_ended'
        ? 'the run ended while it waited for approval'
        : 'the user denied it';
  return { allowed: false, decision: 'deny', by, message: `${server}.${tool} was not run: ${why}` };
}
