import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { ElicitResultSchema, type ClientCapabilities, type Implementation } from '@modelcontextprotocol/sdk/types.js';
import { ApprovalDecisionSchema, type ApprovalClosedEvent, type ApprovalDecision, type ApprovalEvent } from '@mcp-code-mode/protocol';
import { linkedSignal } from '@mcp-code-mode/client';

/** The longest an elicitation may stay open on our side: the daemon's MCP_BRIDGE_APPROVAL_TIMEOUT decides before. */
const ELICIT_TIMEOUT_MS = 86_400_000 + 60_000;

/** True when the MCP client declared it can be asked for form input (an empty `elicitation` means form). */
export function canElicit(caps: ClientCapabilities | undefined): boolean {
  const e = caps?.elicitation;
  return e !== undefined && (e.form !== undefined || e.url === undefined);
}

/**
 * The line the shim logs when a client has initialized: who it says it is, what it declared for
 * elicitation, and so whether approval questions can reach its user. Names are quoted as JSON, so a
 * client cannot write a line of its own into the log.
 */
export function initializedLine(client: Implementation | undefined, caps: ClientCapabilities | undefined): string {
  const who = client ? `client ${JSON.stringify(client.name)} version ${JSON.stringify(client.version)}` : 'a client without clientInfo';
  const declared = caps?.elicitation === undefined ? 'no elicitation capability' : `capabilities.elicitation ${JSON.stringify(caps.elicitation)}`;
  const verdict = canElicit(caps) ? 'approval questions are asked through it' : 'it cannot be asked for approvals';
  return `mcp-code-mode-shim: ${who} declared ${declared}: ${verdict}`;
}

const CHOICES: { const: ApprovalDecision; title: string }[] = [
  { const: 'allow_once', title: 'Allow this time' },
  { const: 'allow_tool', title: 'Allow this tool for the rest of this run' },
  { const: 'deny', title: 'Deny' },
];

/** The text the user reads: what would run, how many times, and why they are asked. */
export function approvalMessage(event: ApprovalEvent): string {
  const what = `${event.server}.${event.tool}`;
  const lines = [
    event.count > 1 ? `Sandbox code wants to call ${what} ${event.count} times (one batch).` : `Sandbox code wants to call ${what}.`,
    `Why you are asked: ${event.reason}.`,
    event.count > 1 ? `Arguments of the first ${event.arguments.length}:` : 'Arguments:',
    ...event.arguments.map((a) => `  ${a}`),
  ];
  if (event.count > event.arguments.length) lines.push(`  … and ${event.count - event.arguments.length} more`);
  return lines.join('\n');
}

export interface ApprovalAsker {
  /** Answers the daemon: POST /v1/runs/approvals/:id. */
  answer: (id: string, decision: ApprovalDecision) => Promise<void>;
  /** Told when a question opens (for the progress notifications). */
  onAsk?: (event: ApprovalEvent) => void;
  onError?: (err: unknown) => void;
}

/**
 * The questions of one run_python call: each `approval` event becomes an `elicitation/create` (form
 * mode) tied to the tools/call request and cancelled with it; `approval_closed` (the daemon's
 * timeout) withdraws it. Accept means the choice made (allow once when the client sends none);
 * decline and cancel mean deny.
 */
export function approvalHandler(server: Server, request: { requestId: string | number; signal: AbortSignal }, asker: ApprovalAsker) {
  const open = new Map<string, AbortController>();
  const ask = async (event: ApprovalEvent): Promise<void> => {
    const withdraw = new AbortController();
    // Not AbortSignal.any: see linkedSignal in @mcp-code-mode/client (the SDK keeps its listener on it).
    using linked = linkedSignal(request.signal, withdraw.signal);
    open.set(event.id, withdraw);
    asker.onAsk?.(event);
    let decision: ApprovalDecision = 'deny';
    try {
      // Server.request rather than elicitInput: elicitInput refuses a client whose capability is the
      // empty object, which the spec says means form mode.
      const result = await server.request(
        {
          method: 'elicitation/create',
          params: {
            mode: 'form',
            message: approvalMessage(event),
            requestedSchema: {
              type: 'object',
              properties: { decision: { type: 'string', title: 'Decision', oneOf: CHOICES, default: 'allow_once' } },
              required: ['decision'],
            },
          },
        },
        ElicitResultSchema,
        { relatedRequestId: request.requestId, signal: linked.signal, timeout: ELICIT_TIMEOUT_MS },
      );
      if (result.action === 'accept') {
        const chosen = ApprovalDecisionSchema.safeParse(result.content?.decision);
        decision = chosen.success ? chosen.data : 'allow_once';
      }
    } catch (err) {
      if (withdraw.signal.aborted || request.signal.aborted) return;
      asker.onError?.(err);
    } finally {
      open.delete(event.id);
    }
    if (withdraw.signal.aborted || request.signal.aborted) return;
    await asker.answer(event.id, decision).catch((err) => asker.onError?.(err));
  };
  return (event: ApprovalEvent | ApprovalClosedEvent): void => {
    if (event.type === 'approval_closed') {
      open.get(event.id)?.abort(new Error(`the daemon closed the question (${event.by})`));
      return;
    }
    void ask(event);
  };
}
