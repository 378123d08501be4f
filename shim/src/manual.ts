import { z } from 'zod';
import { RunInputSchema, RunResultSchema, type RunLimitsInfo } from '@mcp-code-mode/protocol';
import { indexText, type IndexState } from './index-text.js';

export const TOOL_NAME = 'run_python';
export const CAPABILITIES_URI = 'resource://mcp-code-mode/capabilities';

/** Claude Code cuts a tool description past this many characters; ours, index included, stays under. */
export const DESCRIPTION_LIMIT = 2048;

/**
 * What the model reads in the tool description before the server index: the one-run path (pick
 * from the index, call by signature, print only the answer) and where to look when unsure. Short on
 * purpose: it is paid for in every conversation, and the room it leaves is the index's.
 */
export const TOOL_MANUAL = `Run Python in a fresh sandbox (no network) that calls the MCP servers below as async functions; only what it prints comes back.
One run is enough: list the server in \`servers\`, call \`await mcp_<name>.<tool>(arg=...)\` (keyword arguments; names with - or . use _), filter in Python, print only the answer.
- A tool call returns its structuredContent, else its text (JSON decoded); \`r["k"]\` or \`r.k\`. Errors raise \`runtime.MCPError\`.
- Unsure of a tool: \`from mcp import runtime\`; \`await runtime.search_tool_docs("words")\`, \`await runtime.query_tool_docs(server, tool)\`; \`help(mcp_x.tool)\`.
- Top-level await; \`asyncio.gather\` runs calls at once. Stateless unless \`session: "new"\` (pass back the returned id). More: ${CAPABILITIES_URI}`;

/**
 * The whole manual, as the capabilities resource: for a model (or a person) that wants the
 * details the description leaves out.
 */
export const SANDBOX_MANUAL = `Run Python 3 in a fresh, locked-down container and get back what it prints.
Use it to call the tools of other MCP servers from code: filter, join and summarise their results inside the sandbox so only the answer comes back.

- Name the servers you need in \`servers\`; each one is a proxy \`mcp_<alias>\` (alias: lower-case, other characters as _). Call tools with keyword arguments: \`await mcp_github.search_issues(query="...")\`; \`.with_timeout(s)\` gives a per-call timeout. Also \`mcp_servers["name"]\` and \`LOADED_MCP_SERVERS\`.
- A tool result is its structuredContent, else its text (decoded from JSON when it is JSON); dicts allow \`r["k"]\` and \`r.k\`. A tool error raises \`runtime.MCPError\`.
- \`from mcp import runtime\`: \`discovered_servers()\`, \`await list_tools(server)\`, \`await query_tool_docs(server, tool=None, detail="summary"|"full"|"stub")\` ("stub": typed Python stubs, also the resource resource://mcp-code-mode/servers/<alias>.pyi), \`await search_tool_docs(query, limit=5)\`, \`describe_server(name)\`, \`capability_summary()\`, \`await call_tool(server, tool, {args})\`, \`await list_resources(server)\`, \`await read_resource(server, uri)\`.
- Top-level \`await\` works; \`asyncio.gather\` runs tool calls concurrently.
- Calls that change things may wait for the user's approval; a denied one raises \`runtime.ApprovalDenied\` (an MCPError: catch it and go on). For many calls of one tool use \`await runtime.call_batch(server, tool, [{args}, ...])\`: one approval, run concurrently, a list in order of each result or its MCPError.
- By default every run is stateless: a new container each time, nothing kept. Sessions: \`session: "new"\` returns \`session.id\` in the result; pass that id to later runs to keep variables, imports and /workspace files (its runs go one at a time; its servers are fixed when it starts). It ends when idle past \`session.expiresAt\`, or when a run times out or kills the interpreter; then start a new one.
- Saved tools: \`runtime.save_tool(func)\` (or \`@runtime.save_tool\`) keeps a function for every later run, session or not: \`from skills import name\`; \`runtime.list_saved_tools()\` (name, docstring, error), \`runtime.delete_saved_tool(name)\`. Import what it needs inside it or at the top of the run.
- Plots and files come back after the text: \`plt.show()\` or \`runtime.show_image(fig_or_png)\` returns an image; \`runtime.export_file(path)\` returns a file written under /tmp or /workspace (a CSV as text). At most MCP_BRIDGE_MAX_IMAGES (8) images; don't print base64.
- Figures still open when the code ends are sent as by \`plt.show()\`; \`plt.close()\` one to leave it out.
- No network, read-only filesystem except /tmp and /workspace, limited memory, processes and time (\`timeout\`, seconds). Output is capped per stream; print summaries, not raw dumps.
- The result has status success | error | timeout | validation_error, stdout and stderr lines, and the error with its traceback.`;

/** The tool description: the short manual, then the index in whatever room is left under the limit. */
export function toolDescription(state: IndexState): string {
  const budget = DESCRIPTION_LIMIT - 1 - TOOL_MANUAL.length - 2;
  return `${TOOL_MANUAL}\n\n${indexText(state, budget)}`;
}

/**
 * The server's `instructions` (Claude Code puts them in its system prompt; the Gemini CLI does not
 * read them, hence the index in the description too).
 */
export function serverInstructions(state: IndexState): string {
  const intro = `Use ${TOOL_NAME} to call these MCP servers' tools from Python in one run; its description is the manual, ${CAPABILITIES_URI} the full one.`;
  return `${intro}\n${indexText(state, DESCRIPTION_LIMIT - intro.length - 2)}`;
}

/** A zod object schema as the JSON Schema an MCP tool advertises (no `$schema`: some clients reject it). */
function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): { type: 'object'; [key: string]: unknown } {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io }) as Record<string, unknown>;
  return { ...rest, type: 'object' };
}

/**
 * The input schema with what only the running configuration knows: the server names `servers`
 * accepts, and the real timeout default and maximum (a larger value is lowered, not refused, so
 * the maximum is advertised for the model's sake).
 */
export function runInputJsonSchema(names: readonly string[], limits: RunLimitsInfo): { type: 'object'; [key: string]: unknown } {
  const schema = jsonSchemaOf(RunInputSchema, 'input');
  const properties = { ...(schema.properties as Record<string, Record<string, unknown>>) };
  properties.servers = {
    ...properties.servers,
    ...(names.length > 0 ? { items: { type: 'string', enum: [...names] } } : {}),
    description:
      names.length > 0
        ? 'MCP servers this run may call, as mcp_<name> proxies; only these are reachable.'
        : 'MCP servers this run may call; none is configured.',
  };
  properties.timeout = {
    ...properties.timeout,
    maximum: limits.maxTimeoutSec,
    description: `Seconds before the sandbox is killed; default ${limits.timeoutSec}, at most ${limits.maxTimeoutSec} (MCP_BRIDGE_MAX_TIMEOUT; larger values are lowered).`,
  };
  return { ...schema, properties };
}

export interface ToolOptions {
  state: IndexState;
  limits: RunLimitsInfo;
  /** MCP_BRIDGE_STRUCTURED_CONTENT: advertise the output schema (and send structuredContent). */
  structured: boolean;
}

/**
 * The run_python tool as tools/list shows it. The input schema is the real one (so clients and models
 * see every constraint), but the shim does not enforce it: the daemon does, and answers bad input with
 * a `validation_error` result instead of a protocol error. No output schema unless asked for:
 * Claude Code drops it anyway, and it is 430 tokens of the definition.
 */
export function runPythonTool(options: ToolOptions): {
  name: string;
  title: string;
  description: string;
  inputSchema: { type: 'object'; [key: string]: unknown };
  outputSchema?: { type: 'object'; [key: string]: unknown };
  annotations: Record<string, boolean | string>;
} {
  const names = 'index' in options.state ? options.state.index.servers.map((s) => s.name) : [];
  return {
    name: TOOL_NAME,
    title: 'Run Python in a sandbox',
    description: toolDescription(options.state),
    inputSchema: runInputJsonSchema(names, options.limits),
    ...(options.structured ? { outputSchema: jsonSchemaOf(RunResultSchema, 'output') } : {}),
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
  };
}
