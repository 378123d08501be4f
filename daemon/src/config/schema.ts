import { formatIssues } from '@mcp-code-mode/protocol';
import { z } from 'zod';

// Clients write numbers and booleans into env and headers ("PORT": 3000); every launcher turns
// them into strings anyway, so accepting them avoids rejecting configs that work elsewhere.
const scalar = z.union([z.string(), z.number(), z.boolean()]).transform(String);
const StringMapSchema = z.record(z.string(), scalar);

/** Fields every client may add to an entry; only `description` and `disabled` mean something here. */
const common = {
  description: z.string().optional(),
  disabled: z.boolean().optional(),
};

/** A server launched as a child process speaking MCP over its stdin/stdout. */
export const StdioEntrySchema = z
  .looseObject({
    type: z.literal('stdio').optional(),
    command: z.string().min(1, 'command must not be empty'),
    args: z.array(scalar).default([]),
    env: StringMapSchema.default({}),
    cwd: z.string().min(1).optional(),
    ...common,
  })
  .transform((entry) => ({
    transport: 'stdio' as const,
    command: entry.command,
    args: entry.args,
    env: entry.env,
    ...(entry.cwd !== undefined ? { cwd: entry.cwd } : {}),
    ...(entry.description !== undefined ? { description: entry.description } : {}),
    disabled: entry.disabled === true,
  }));

/** Every spelling of the remote transports that clients use. */
export const RemoteTypeSchema = z.enum(['http', 'sse', 'streamable-http', 'streamableHttp', 'streamable_http']);

/** A server reached over the network: Streamable HTTP or the older HTTP+SSE transport. */
export const RemoteEntrySchema = z
  .looseObject({
    type: RemoteTypeSchema.optional(),
    url: z.string().refine((value) => /^https?:\/\//i.test(value), 'url must start with http:// or https://'),
    headers: StringMapSchema.default({}),
    ...common,
  })
  .transform((entry) => ({
    transport: entry.type === 'sse' ? ('sse' as const) : ('http' as const),
    url: entry.url,
    headers: entry.headers,
    // Without a type, Cursor and the SDK's own example try Streamable HTTP first, then SSE.
    sseFallback: entry.type === undefined,
    ...(entry.description !== undefined ? { description: entry.description } : {}),
    disabled: entry.disabled === true,
  }));

export type StdioServerConfig = z.output<typeof StdioEntrySchema>;
export type RemoteServerConfig = z.output<typeof RemoteEntrySchema>;
/** One server entry after parsing: what the connection layer needs to reach it. */
export type ServerConfig = StdioServerConfig | RemoteServerConfig;

/** The `mcpServers` (or VS Code `servers`) object of a config file: name to raw entry. */
export const ServerMapSchema = z.record(z.string(), z.unknown());

export type EntryCheck = { ok: true; config: ServerConfig } | { ok: false; reason: string };


/**
 * One raw entry to a ServerConfig. The transport is chosen by the fields present rather than by
 * a zod union, so that the reason names the field that is wrong instead of "no union member matched".
 */
export function parseServerEntry(raw: unknown): EntryCheck {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, reason: 'an entry must be an object with command (stdio) or url (http/sse)' };
  }
  const entry = raw as Record<string, unknown>;
  const hasCommand = entry.command !== undefined;
  const hasUrl = entry.url !== undefined;
  if (hasCommand && hasUrl) return { ok: false, reason: 'an entry has either command (stdio) or url (http/sse), not both' };
  if (!hasCommand && !hasUrl) return { ok: false, reason: 'an entry needs command (stdio) or url (http/sse)' };
  if (hasCommand && entry.type !== undefined && entry.type !== 'stdio') {
    return { ok: false, reason: `type ${JSON.stringify(entry.type)} needs url, but the entry has command` };
  }
  const parsed = hasCommand ? StdioEntrySchema.safeParse(entry) : RemoteEntrySchema.safeParse(entry);
  return parsed.success ? { ok: true, config: parsed.data } : { ok: false, reason: formatIssues(parsed.error) };
}
