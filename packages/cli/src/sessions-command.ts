import { parseArgs } from 'node:util';
import { SessionListSchema, type SessionList, type SessionsStatus } from '@mcp-code-mode/protocol';
import { ControlClient, ControlError, statePaths } from '@mcp-code-mode/client';
import { UsageError, type CliContext } from './context.js';

const USAGE = 'sessions list [--json] | sessions end ID';

function formatList(list: SessionList): string {
  if (list.sessions.length === 0) return `no open sessions (at most ${list.max}, each ends after ${list.idleTtlSec} s idle)`;
  const lines = [`${list.sessions.length} open session(s) (at most ${list.max}, each ends after ${list.idleTtlSec} s idle):`];
  for (const s of list.sessions) {
    const servers = s.servers.length > 0 ? s.servers.join(',') : 'no servers';
    const state = s.busy ? 'running' : `idle, ends ${s.expiresAt}`;
    lines.push(`  ${s.id}  ${s.runs} run(s), ${servers}, container ${s.container}, ${state}`);
  }
  return lines.join('\n');
}

/** The sessions lines of `mcp-code-mode status`. */
export function formatSessionsStatus(sessions: SessionsStatus): string[] {
  const lines = [`sessions ${sessions.open} open (at most ${sessions.max}, ${sessions.idleTtlSec} s idle TTL)`];
  for (const s of sessions.list) lines.push(`  ${s.idPrefix}: ${s.runs} run(s)${s.busy ? ', running' : `, ends ${s.expiresAt}`}${s.servers.length ? `, servers ${s.servers.join(',')}` : ''}`);
  return lines;
}

/** `mcp-code-mode sessions list [--json]` and `mcp-code-mode sessions end ID`. */
export async function sessionsCommand(args: string[], ctx: CliContext): Promise<number> {
  const [sub, ...rest] = args;
  const client = new ControlClient(statePaths(ctx.env).socket);
  if (sub === 'list' || sub === undefined) {
    const { values } = parseArgs({ args: rest, options: { json: { type: 'boolean', default: false } } });
    const list = SessionListSchema.parse(await client.get('/v1/sessions'));
    ctx.stdout.write(`${values.json ? JSON.stringify(list, null, 2) : formatList(list)}\n`);
    return 0;
  }
  if (sub === 'end') {
    const id = rest[0];
    if (!id || rest.length > 1) throw new UsageError(`sessions end needs one session id (see \`mcp-code-mode sessions list\`)\nusage: mcp-code-mode ${USAGE}`);
    try {
      await client.delete(`/v1/sessions/${encodeURIComponent(id)}`);
    } catch (err) {
      if (err instanceof ControlError && err.code === 'unknown_session') {
        ctx.stderr.write(`mcp-code-mode: ${err.message}\n`);
        return 1;
      }
      throw err;
    }
    ctx.stdout.write(`session ${id} ended; its container is removed\n`);
    return 0;
  }
  throw new UsageError(`unknown sessions subcommand ${JSON.stringify(sub)}\nusage: mcp-code-mode ${USAGE}`);
}
