import { z } from 'zod';
import { RunInputSchema, RunResultSchema } from '@mcp-code-mode/protocol';

export const TOOL_NAME = 'run_python';
export const CAPABILITIES_URI = 'resource://mcp-code-mode/capabilities';

/**
 * The short manual of the sandbox. The model reads it twice: as the tool description (so it is there
 * without an extra round trip) and as the capabilities resource. Kept short on purpose: every word
 * of a tool description costs context in every conversation.
 */
export const SANDBOX_MANUAL = `Run Python 3 in a fresh, locked-down container and get back what it prints.
Use it to call the tools of other MCP servers from code: filter, join and summarise their results inside the sandbox so only the answer comes back.

- Name the servers you need in \`servers\`; each one is a proxy \`mcp_<alias>\` (alias: lower-case, other characters as _). Call tools with keyword arguments: \`await mcp_github.search_issues(query="...")\`; \`.with_timeout(s)\` gives a per-call timeout. Also \`mcp_servers["name"]\` and \`LOADED_MCP_SERVERS\`.
- A tool result is its structuredContent, else its text (decoded from JSON when it is JSON); dicts allow \`r["k"]\` and \`r.k\`. A tool error raises \`runtime.MCPError\`.
- \`from mcp import runtime\`: \`discovered_servers()\`, \`await list_tools(server)\`, \`await query_tool_docs(server, tool=None, detail="summary"|"full")\`, \`await search_tool_docs(query, limit=5)\`, \`describe_server(name)\`, \`capability_summary()\`, \`await call_tool(server, tool, {args})\`, \`await list_resources(server)\`, \`await read_resource(server, uri)\`.
- Top-level \`await\` works; \`asyncio.gather\` runs tool calls concurrently.
- Calls that change things may wait for the user's approval; a denied one raises \`runtime.ApprovalDenied\` (an MCPError: catch it and go on). For many calls of one tool use \`await runtime.call_batch(server, tool, [{args}, ...])\`: one approval, run concurrently, a list in order of each result or its MCPError.
- By default every run is stateless: a new container each time, nothing kept. Sessions: \`session: "new"\` returns \`session.id\` in the result; pass that id to later runs to keep variables, imports and /workspace files (its runs go one at a time; its servers are fixed when it starts). It ends when idle past \`session.expiresAt\`, or when a run times out or kills the interpreter; then start a new one.
- Saved tools: \`runtime.save_tool(func)\` (or \`@runtime.save_tool\`) keeps a function for every later run, session or not: \`from skills import name\`; \`runtime.list_saved_tools()\` (name, docstring, error), \`runtime.delete_saved_tool(name)\`. Import what it needs inside it or at the top of the run.
- No network, read-only filesystem except /tmp and /workspace, limited memory, processes and time (\`timeout\`, seconds). Output is capped per stream; print summaries, not raw dumps.
- The result has status success | error | timeout | validation_error, stdout and stderr lines, and the error with its traceback.`;

/** A zod object schema as the JSON Schema an MCP tool advertises (no `$schema`: some clients reject it). */
function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): { type: 'object'; [key: string]: unknown } {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io }) as Record<string, unknown>;
  return { ...rest, type: 'object' };
}

/**
 * The run_python tool as tools/list shows it. The input schema is the real one (so clients and models
 * see every constraint), but the shim does not enforce it: the daemon does, and answers bad input with
 * a `validation_error` result instead of a protocol error.
 */
export function runPythonTool(): {
  name: string;
  title: string;
  description: string;
  inputSchema: { type: 'object'; [key: string]: unknown };
  outputSchema: { type: 'object'; [key: string]: unknown };
  annotations: Record<string, boolean | string>;
} {
  return {
    name: TOOL_NAME,
    title: 'Run Python in a sandbox',
    description: SANDBOX_MANUAL,
    inputSchema: jsonSchemaOf(RunInputSchema, 'input'),
    outputSchema: jsonSchemaOf(RunResultSchema, 'output'),
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
  };
}
