import { DaemonStatusSchema, type DaemonStatus, type HttpStatus, type PoolStatus, type RunCounts, type SessionsStatus } from '@mcp-code-mode/protocol';
import type { ToolHost } from './rpc/tool-host.js';

/** What the daemon knows about itself that does not change while it runs (plus uptime and memory). */
export interface DaemonInfo {
  version: string;
  pid: number;
  uptimeSec: number;
  rssBytes: number;
  engine: { name: string; version: string; via: string };
  image: string;
  socket: string;
}

export interface StatusSources {
  info: () => DaemonInfo;
  pool: () => PoolStatus;
  toolHost: Pick<ToolHost, 'status'>;
  runs: () => RunCounts;
  http: () => HttpStatus;
  sessions?: () => SessionsStatus;
}

const MASK = '***';
const SECRET_PATTERNS: [RegExp, string][] = [
  // scheme://user:password@host
  [/([a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:)([^\s@/]+)@/gi, `$1${MASK}@`],
  // Authorization: Bearer xyz / Basic xyz
  [/\b(bearer|basic|token)\s+[A-Za-z0-9._~+/=-]{6,}/gi, `$1 ${MASK}`],
  // api_key=..., token: ..., password=... (in messages, query strings, JSON-ish text)
  [/\b([a-z0-9_-]*(?:api[_-]?key|token|secret|password|passwd|authorization)[a-z0-9_-]*)(["']?\s*[:=]\s*["']?)(?!(?:bearer|basic|token)\s|\*\*\*)([^\s"'&,;]{4,})/gi, `$1$2${MASK}`],
];

/**
 * Masks what looks like a credential in free text. A last line of defence for messages that come
 * from elsewhere (an MCP server's error, a config parser) and may quote a secret; the tool host is
 * expected to mask the values it knows, and this catches the usual shapes it may not.
 */
export function redactText(text: string): string {
  let out = text;
  for (const [pattern, replacement] of SECRET_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/**
 * The status of a running daemon. Every server entry is rebuilt field by field and the whole is
 * parsed by DaemonStatusSchema, which drops any key it does not name: env values, headers or args a
 * tool host might carry cannot reach /status by accident.
 */
export function buildStatus(sources: StatusSources): DaemonStatus {
  const { servers, problems } = sources.toolHost.status();
  const pool = sources.pool();
  return DaemonStatusSchema.parse({
    ...sources.info(),
    http: sources.http(),
    pool: { ...pool, ...(pool.lastStartError !== undefined ? { lastStartError: redactText(pool.lastStartError) } : {}) },
    servers: servers.map((s) => ({
      name: s.name,
      transport: s.transport,
      source: s.source,
      state: s.state,
      ...(s.tools !== undefined ? { tools: s.tools } : {}),
      ...(s.lastError !== undefined ? { lastError: redactText(s.lastError) } : {}),
    })),
    configProblems: problems.map((p) => ({ path: p.path, message: redactText(p.message) })),
    runs: sources.runs(),
    ...(sources.sessions ? { sessions: sources.sessions() } : {}),
  });
}
