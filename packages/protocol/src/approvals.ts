import { z } from 'zod';

/** MCP_BRIDGE_APPROVAL: when a tool call of sandbox code waits for the user (docs/APPROVALS.md). */
export const APPROVAL_MODES = ['auto', 'writes', 'all', 'off'] as const;
export const ApprovalModeSchema = z.enum(APPROVAL_MODES);
export type ApprovalMode = z.infer<typeof ApprovalModeSchema>;

/** The user's answer: this call (or batch) only, this tool for the rest of the run, or no. */
export const APPROVAL_DECISIONS = ['allow_once', 'allow_tool', 'deny'] as const;
export const ApprovalDecisionSchema = z.enum(APPROVAL_DECISIONS);
export type ApprovalDecision = z.infer<typeof ApprovalDecisionSchema>;

/** Body of `POST /v1/runs/approvals/:id`. */
export const ApprovalAnswerSchema = z.object({ decision: ApprovalDecisionSchema }).strict();
export type ApprovalAnswer = z.infer<typeof ApprovalAnswerSchema>;

/**
 * A per-server or per-tool rule of the approvals file: `ask` always asks, `allow` never asks,
 * `refuse` refuses without asking. A tool's rule wins over its server's, which wins over the mode.
 */
export const ApprovalRuleSchema = z.enum(['ask', 'allow', 'refuse']);
export type ApprovalRule = z.infer<typeof ApprovalRuleSchema>;

/** The approvals file (`<state dir>/approvals.json`, or MCP_BRIDGE_APPROVALS_FILE). */
export const ApprovalsFileSchema = z
  .object({
    servers: z
      .record(
        z.string().min(1),
        z.union([ApprovalRuleSchema, z.object({ rule: ApprovalRuleSchema.optional(), tools: z.record(z.string().min(1), ApprovalRuleSchema).default({}) }).strict()]),
      )
      .default({}),
  })
  .strict();
export type ApprovalsFile = z.output<typeof ApprovalsFileSchema>;

/**
 * A question to the user, on the run's stream: the shim turns it into an MCP elicitation. The
 * arguments are previews (cut, secrets masked); `count` is the number of calls it covers (a batch).
 */
export const ApprovalEventSchema = z.object({
  type: z.literal('approval'),
  id: z.string().min(1),
  server: z.string(),
  tool: z.string(),
  arguments: z.array(z.string()),
  count: z.number().int().positive(),
  reason: z.string(),
});
export type ApprovalEvent = z.infer<typeof ApprovalEventSchema>;

/** Who made a decision: the user, the daemon's timeout, a rule, or the run ending. */
export const APPROVAL_DECIDERS = ['user', 'timeout', 'policy', 'run_ended'] as const;
export const ApprovalDeciderSchema = z.enum(APPROVAL_DECIDERS);
export type ApprovalDecider = z.infer<typeof ApprovalDeciderSchema>;

/** A question is closed without the shim's answer (its timeout, the run ended): the shim withdraws it. */
export const ApprovalClosedEventSchema = z.object({
  type: z.literal('approval_closed'),
  id: z.string().min(1),
  decision: ApprovalDecisionSchema,
  by: ApprovalDeciderSchema,
});
export type ApprovalClosedEvent = z.infer<typeof ApprovalClosedEventSchema>;

/** One tool call in the audit log. */
export const AuditCallSchema = z.object({
  at: z.string(),
  server: z.string(),
  tool: z.string(),
  /** sha256 of the arguments' JSON. */
  argumentsSha256: z.string(),
  /** The arguments' JSON, capped and with secrets masked. */
  arguments: z.string(),
  /** Calls this line covers (a batch item is one call; the batch's question covers `count`). */
  batch: z.number().int().positive().optional(),
  outcome: z.enum(['ok', 'error', 'denied', 'cancelled']),
  error: z.string().optional(),
  durationMs: z.number(),
  decision: z.enum(['not_asked', 'allow_once', 'allow_tool', 'allowed_for_run', 'deny', 'refused']),
  by: z.union([ApprovalDeciderSchema, z.literal('none')]),
});
export type AuditCall = z.infer<typeof AuditCallSchema>;

/** One line of `<state dir>/audit.jsonl`: a whole run. */
export const AuditRecordSchema = z.object({
  time: z.string(),
  client: z.string().optional(),
  session: z.string().optional(),
  servers: z.array(z.string()),
  code: z.string(),
  codeSha256: z.string(),
  codeBytes: z.number().int().nonnegative(),
  calls: z.array(AuditCallSchema),
  status: z.string(),
  durationMs: z.number(),
});
export type AuditRecord = z.infer<typeof AuditRecordSchema>;
