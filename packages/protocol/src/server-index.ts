import { z } from 'zod';
import { ConfigProblemSchema } from './status.js';

/** One tool in the index: the function name sandbox code calls, and the arguments it must pass. */
export const IndexToolSchema = z.object({
  /** The alias (`get_sum` for `get-sum`). */
  name: z.string(),
  /** Required arguments, in the schema's order. */
  required: z.array(z.string()),
  /** How many optional arguments it has besides. */
  optional: z.number().int().nonnegative(),
});
export type IndexTool = z.infer<typeof IndexToolSchema>;

/**
 * One configured MCP server as the model's index shows it: what to put in `servers`, the proxy
 * it becomes, one line about it, and the tool functions it has (their sandbox aliases). A server
 * that could not be reached is listed with the reason, so the model does not try it blind.
 */
export const IndexServerSchema = z.object({
  name: z.string(),
  alias: z.string(),
  description: z.string().optional(),
  state: z.enum(['available', 'unavailable']),
  /** In the server's order; empty when unavailable. */
  tools: z.array(IndexToolSchema),
  reason: z.string().optional(),
});
export type IndexServer = z.infer<typeof IndexServerSchema>;

/** The run limits the tool's input schema advertises, as the daemon applies them. */
export const RunLimitsInfoSchema = z.object({
  timeoutSec: z.number().int().positive(),
  maxTimeoutSec: z.number().int().positive(),
});
export type RunLimitsInfo = z.infer<typeof RunLimitsInfoSchema>;

/** Body of `GET /v1/index`: every configured server for the model's index, and the config problems. */
export const ServerIndexSchema = z.object({
  servers: z.array(IndexServerSchema),
  problems: z.array(ConfigProblemSchema),
  limits: RunLimitsInfoSchema.optional(),
});
export type ServerIndex = z.infer<typeof ServerIndexSchema>;

/**
 * Body of `GET /v1/stubs/:alias`: one server's tools as a Python stub module, the text that
 * `await runtime.query_tool_docs(server, detail="stub")` gives in a run that lists it. The shim
 * serves it as the resource `resource://mcp-code-mode/servers/<alias>.pyi`.
 */
export const ServerStubSchema = z.object({
  name: z.string(),
  alias: z.string(),
  stub: z.string(),
});
export type ServerStub = z.infer<typeof ServerStubSchema>;
