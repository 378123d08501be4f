import type { IndexServer, IndexTool, RunLimitsInfo, ServerIndex, ToolInfo } from '@mcp-code-mode/protocol';
import type { ToolHost } from '../rpc/tool-host.js';
import { makeAliases } from './aliases.js';
import { linkedSignal } from '@mcp-code-mode/client';

export interface ServerIndexOptions {
  signal: AbortSignal;
  /** How long one server may take to connect and list its tools before it is listed as unavailable. */
  perServerTimeoutMs?: number;
  limits?: RunLimitsInfo;
}

const PER_SERVER_TIMEOUT_MS = 10_000;

/** A reason on one line, short enough for the index (the full one is in `mcp-code-mode servers`). */
function oneLine(text: string, max = 160): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= max ? line : `${line.slice(0, max - 1).trimEnd()}…`;
}

/** A tool's function name and its arguments, from its input schema. */
function indexTool(tool: ToolInfo): IndexTool {
  const schema = (tool.inputSchema ?? {}) as { properties?: Record<string, unknown>; required?: unknown };
  const names = Object.keys(schema.properties ?? {});
  const wanted = new Set(Array.isArray(schema.required) ? schema.required.filter((r): r is string => typeof r === 'string') : []);
  const required = names.filter((name) => wanted.has(name));
  return { name: tool.alias, required, optional: names.length - required.length };
}

/**
 * Every configured server for the model's index: connected (on first need) and its tools listed,
 * all at once, each within its own time limit, so one slow or broken server costs the index only
 * its own entry. The aliases are those of a run that names every server in this order; they differ
 * from a run's only when two names share an alias.
 */
export async function buildServerIndex(host: ToolHost, options: ServerIndexOptions): Promise<ServerIndex> {
  const names = host.discovered();
  const aliases = makeAliases(names);
  const timeoutMs = options.perServerTimeoutMs ?? PER_SERVER_TIMEOUT_MS;
  const servers = await Promise.all(
    names.map(async (name, i): Promise<IndexServer> => {
      // A timer of our own, not AbortSignal.timeout: that one is unref'd, and the index is being waited for.
      const expired = new AbortController();
      const timer = setTimeout(() => expired.abort(), timeoutMs);
      // Linked by hand, not AbortSignal.any: see linkedSignal in @mcp-code-mode/client (the index is asked for again and again).
      const linked = linkedSignal(options.signal, expired.signal);
      const signal = linked.signal;
      try {
        // Raced as well as signalled: a host that ignores the signal still cannot hold the index up.
        const aborted = new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true }));
        const [info] = await Promise.race([host.describe([name], signal), aborted]);
        return {
          name,
          alias: aliases[i]!,
          ...(info?.description ? { description: oneLine(info.description) } : {}),
          state: 'available',
          tools: (info?.tools ?? []).map(indexTool),
        };
      } catch (err) {
        const reason = expired.signal.aborted ? `did not list its tools within ${timeoutMs} ms` : (err as Error).message;
        return { name, alias: aliases[i]!, state: 'unavailable', tools: [], reason: oneLine(reason) };
      } finally {
        linked.dispose();
        clearTimeout(timer);
      }
    }),
  );
  const { problems } = host.status();
  return { servers, problems, ...(options.limits ? { limits: options.limits } : {}) };
}
