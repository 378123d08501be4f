import { z } from 'zod';

// The params of each RPC method of docs/PROTOCOL.md, checked in the daemon whatever the sandbox
// agent claims to send: sandbox code can forge frames, so nothing here trusts the Python side.
// (The agent's own checks are conveniences for the model; these are the authority.)
const server = z.string().min(1).max(256);
const detail = z.enum(['name', 'summary', 'full']).default('summary');

export const CallToolParamsSchema = z.object({
  server,
  tool: z.string().min(1).max(256),
  arguments: z.record(z.string(), z.unknown()).default({}),
  timeoutMs: z.number().int().positive().optional(),
});
/** MCP_BRIDGE_MAX_TOOL_CALLS bounds a batch too: each item counts as one call. */
export const MAX_BATCH_ITEMS = 10_000;
export const CallBatchParamsSchema = z.object({
  server,
  tool: z.string().min(1).max(256),
  items: z.array(z.record(z.string(), z.unknown())).min(1, 'items must hold at least one set of arguments').max(MAX_BATCH_ITEMS),
  timeoutMs: z.number().int().positive().optional(),
});
export const ServerParamsSchema = z.object({ server });
export const QueryToolDocsParamsSchema = z.object({ server, tool: z.string().min(1).max(256).optional(), detail });
export const SearchToolDocsParamsSchema = z.object({
  query: z.string().trim().min(1, 'query must not be empty').max(1000),
  limit: z.number().int().min(1).max(100).default(5),
  detail,
});
export const ReadResourceParamsSchema = z.object({ server, uri: z.string().min(1).max(8192) });
// MCP prompt arguments are strings; numbers and booleans are turned into theirs rather than refused.
export const GetPromptParamsSchema = z.object({
  server,
  name: z.string().min(1).max(256),
  arguments: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).default({}),
});

export type CallToolParams = z.output<typeof CallToolParamsSchema>;
export type CallBatchParams = z.output<typeof CallBatchParamsSchema>;
