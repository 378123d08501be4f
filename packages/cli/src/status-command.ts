import { parseArgs } from 'node:util';
import { DaemonStatusSchema, type DaemonStatus } from '@mcp-code-mode/protocol';
import { ControlClient, ControlError, statePaths } from '@mcp-code-mode/client';
import type { CliContext } from './context.js';
import { formatSessionsStatus } from './sessions-command.js';

function duration(sec: number): string {
  const d = Math.floor(sec / 86400);
  const h = Math.floor((sec % 86400) / 3600);
  const m = Math.floor((sec % 3600) / 60);
  const s = sec % 60;
  return d > 0 ? `${d}d ${h}h` : h > 0 ? `${h}h ${m}m` : m > 0 ? `${m}m ${s}s` : `${s}s`;
}

/** The status for a person: one fact per line, problems last so they are seen. */
export function formatStatus(status: DaemonStatus): string {
  const { pool, runs, http } = status;
  const lines = [
    `mcp-code-mode ${status.version}: running (pid ${status.pid}, up ${duration(status.uptimeSec)}, ${Math.round(status.rssBytes / 1024 / 1024)} MiB)`,
    `socket   ${status.socket}`,
    `engine   ${status.engine.name} ${status.engine.version} (${status.engine.via})`,
    `image    ${status.image}`,
    `health   ${http.enabled ? `http://${http.address}:${http.port}/healthz` : http.error ? `not listening: ${http.error}` : 'disabled (set MCP_BRIDGE_HTTP_PORT)'}`,
    `pool     ${pool.warm} warm, ${pool.starting} starting, ${pool.busy} busy, ${pool.queued} queued (${pool.created} started, ${pool.failedStarts} failed); ${pool.sleeping ? 'asleep (warms on the next run)' : `target ${pool.target} warm`}`,
    `runs     ${runs.total} (${runs.success} success, ${runs.error} error, ${runs.timeout} timeout, ${runs.validation_error} invalid), ${runs.toolCalls} tool calls`,
  ];
  if (status.sessions) lines.push(...formatSessionsStatus(status.sessions));
  if (status.servers.length === 0) lines.push('servers  none configured');
  else {
    lines.push(`servers  ${status.servers.length}`);
    for (const s of status.servers) {
      const tools = s.tools !== undefined ? `, ${s.tools} tools` : '';
      lines.push(`  ${s.name}: ${s.state} (${s.transport}${tools}) from ${s.source}${s.lastError ? `\n    last error: ${s.lastError}` : ''}`);
    }
  }
  if (pool.lastStartError) lines.push(`last sandbox start error: ${pool.lastStartError}`);
  for (const p of status.configProblems) lines.push(`config problem: ${p.path}: ${p.message}`);
  return lines.join('\n');
}

/** `mcp-code-mode status [--json]`; exits 3 when no daemon runs (as LSB status commands do). */
export async function statusCommand(args: string[], ctx: CliContext): Promise<number> {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean', default: false } } });
  const paths = statePaths(ctx.env);
  let raw: unknown;
  try {
    raw = await new ControlClient(paths.socket).get('/v1/status');
  } catch (err) {
    if (err instanceof ControlError && err.code === 'daemon_not_running') {
      if (values.json) ctx.stdout.write(`${JSON.stringify({ running: false, socket: paths.socket })}\n`);
      else ctx.stdout.write(`mcp-code-mode: not running (no daemon answers on ${paths.socket}); start it with \`mcp-code-mode start\`\n`);
      return 3;
    }
    throw err;
  }
  if (values.json) {
    ctx.stdout.write(`${JSON.stringify(raw, null, 2)}\n`);
    return 0;
  }
  const parsed = DaemonStatusSchema.safeParse(raw);
  ctx.stdout.write(`${parsed.success ? formatStatus(parsed.data) : JSON.stringify(raw, null, 2)}\n`);
  return 0;
}
