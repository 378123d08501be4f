import { ApprovalsFileSchema, formatIssues, type ApprovalMode, type ApprovalRule, type ApprovalsFile } from '@mcp-code-mode/protocol';

/** What the daemon does with one tool call before it reaches its server. */
export type PolicyVerdict =
  | { action: 'run' }
  | { action: 'ask'; reason: string }
  | { action: 'refuse'; message: string };

export interface CallFacts {
  server: string;
  tool: string;
  /** The tool's annotations say `readOnlyHint: true`; anything else writes. */
  readOnly: boolean;
  /** The MCP client behind the run declared the `elicitation` capability. */
  canElicit: boolean;
}

/** The per-server and per-tool rules, as read from the approvals file. */
export interface ApprovalRules {
  rule(server: string, tool: string): { rule: ApprovalRule; from: string } | undefined;
}

export const NO_RULES: ApprovalRules = { rule: () => undefined };

/** The rules of a parsed approvals file: a tool's own rule wins over its server's. */
export function rulesFrom(file: ApprovalsFile): ApprovalRules {
  return {
    rule(server, tool) {
      const entry = file.servers[server];
      if (entry === undefined) return undefined;
      if (typeof entry === 'string') return { rule: entry, from: `servers.${server}` };
      const own = entry.tools[tool];
      if (own !== undefined) return { rule: own, from: `servers.${server}.tools.${tool}` };
      return entry.rule !== undefined ? { rule: entry.rule, from: `servers.${server}.rule` } : undefined;
    },
  };
}

/** The approvals file's text as rules; a bad file throws, naming the file and what is wrong. */
export function parseApprovalsFile(text: string, path: string): ApprovalRules {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path}: not valid JSON (${(err as Error).message})`);
  }
  const parsed = ApprovalsFileSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`${path}: ${formatIssues(parsed.error, { root: 'approvals', first: true })}`);
  return rulesFrom(parsed.data);
}

const HOW_TO_CHANGE =
  'set MCP_BRIDGE_APPROVAL=auto (run writes when the client cannot ask) or off, or allow the tool in the approvals file (docs/APPROVALS.md), or use an MCP client that supports elicitation';

/**
 * The decision for one call, from the mode, the rules and the client: pure, so that every path
 * (a proxy call, `runtime.call_tool`, a forged frame, a batch) gets the same answer from the daemon.
 * Precedence: a tool's rule, then its server's rule, then MCP_BRIDGE_APPROVAL.
 */
export function decide(mode: ApprovalMode, facts: CallFacts, rules: ApprovalRules = NO_RULES): PolicyVerdict {
  const name = `${facts.server}.${facts.tool}`;
  const rule = rules.rule(facts.server, facts.tool);
  if (rule?.rule === 'refuse') return { action: 'refuse', message: `${name} is refused by the approvals file (${rule.from})` };
  if (rule?.rule === 'allow') return { action: 'run' };
  let reason: string | undefined;
  if (rule?.rule === 'ask') reason = `the approvals file asks for every call of ${name} (${rule.from})`;
  else if (mode === 'all') reason = 'MCP_BRIDGE_APPROVAL=all asks for every tool call';
  else if (mode !== 'off' && !facts.readOnly) reason = `${name} may change things (its server does not mark it read-only) and MCP_BRIDGE_APPROVAL=${mode} asks for those`;
  if (reason === undefined) return { action: 'run' };
  if (facts.canElicit) return { action: 'ask', reason };
  // auto runs writes as before when nobody can be asked; a rule or an explicit mode does not.
  if (mode === 'auto' && rule === undefined) return { action: 'run' };
  return {
    action: 'refuse',
    message: `${name} needs approval (${reason}) but this MCP client cannot be asked (it does not support elicitation); ${HOW_TO_CHANGE}`,
  };
}
