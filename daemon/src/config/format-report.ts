import type { DiscoveryReport, EntryOrigin } from './discover.js';
import { publicConfig } from './redact.js';

function where(origin: EntryOrigin): string {
  return origin.section ? `${origin.path} ${origin.section}` : origin.path;
}

/** The report without secrets, for `mcp-code-mode servers --json` and the control API. */
export function publicReport(report: DiscoveryReport): Record<string, unknown> {
  return {
    servers: report.servers.map((s) => ({ name: s.name, ...publicConfig(s.config), from: where(s.origin), scope: s.origin.scope })),
    skipped: report.skipped.map((s) => ({ name: s.name, from: where(s.origin), reason: s.reason })),
    problems: report.problems,
    sources: report.sources,
  };
}

function target(config: Record<string, unknown>): string {
  if (config.transport === 'stdio') return [config.command, ...(config.args as string[])].join(' ');
  return String(config.url);
}

/** `mcp-code-mode servers`: what was found, from where, what was left out and why. */
export function formatReport(report: DiscoveryReport): string {
  const lines: string[] = [];
  const count = report.servers.length;
  lines.push(count === 0 ? 'No MCP servers found.' : `${count} MCP server${count === 1 ? '' : 's'} (when a name is defined twice, the first source below wins):`);
  for (const server of report.servers) {
    const config = publicConfig(server.config);
    lines.push(`  ${server.name}  [${config.transport}]  ${target(config)}`, `      from ${where(server.origin)}`);
  }
  if (report.skipped.length > 0) {
    lines.push('', 'Not loaded:');
    for (const s of report.skipped) lines.push(`  ${s.name}  from ${where(s.origin)}: ${s.reason}`);
  }
  if (report.problems.length > 0) {
    lines.push('', 'Problems:');
    for (const p of report.problems) lines.push(`  ${p.path}: ${p.message}`);
  }
  lines.push('', 'Sources, in precedence order:');
  for (const s of report.sources) {
    const found = s.files === 0 && s.problems === 0 ? 'not found' : `${s.servers} server${s.servers === 1 ? '' : 's'}`;
    const state = s.problems > 0 ? `${found}, ${s.problems} problem${s.problems === 1 ? '' : 's'}` : found;
    lines.push(`  ${s.label.padEnd(38)} ${s.path}  (${state})`);
  }
  return lines.join('\n');
}
