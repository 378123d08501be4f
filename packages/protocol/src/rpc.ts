import { z } from 'zod';

/** The RPC methods sandbox code calls on the daemon (docs/PROTOCOL.md, "RPC methods"). */
export const RPC_METHODS = [
  'call_tool',
  'call_batch',
  'list_servers',
  'list_tools',
  'query_tool_docs',
  'search_tool_docs',
  'list_resources',
  'read_resource',
  'list_prompts',
  'get_prompt',
  'save_tool',
  'delete_saved_tool',
] as const;
export const RpcMethodSchema = z.enum(RPC_METHODS);
export type RpcMethod = z.infer<typeof RpcMethodSchema>;

/**
 * Every code that sandbox code can see as `MCPError.code`: the daemon sends it in a failed
 * `rpc_result`, or the agent raises it itself (without a round trip, or when the channel fails).
 * The Python side asserts against this list through fixtures/wire/catalogue.json.
 */
export const RpcErrorCodeSchema = z.enum([
  'approval_denied',
  'budget_exceeded',
  'cancelled',
  'channel_closed',
  'internal',
  'invalid_arguments',
  'invalid_request',
  'not_connected',
  'protocol_error',
  'result_too_large',
  'server_exited',
  'server_not_allowed',
  'server_not_loaded',
  'server_unavailable',
  'timeout',
  'too_large',
  'tool_error',
  'unknown_method',
  'unknown_saved_tool',
  'unknown_server',
  'unknown_tool',
  'upstream_error',
]);
export type RpcErrorCode = z.infer<typeof RpcErrorCodeSchema>;

/** Who raises a code: the daemon (in an `rpc_result`), the agent inside the sandbox, or both. */
export type RpcErrorOrigin = 'daemon' | 'agent' | 'both';

/** What each code means and who raises it; keyed by the enum, so a new code cannot go undescribed. */
export const RPC_ERROR_CODES: Readonly<Record<RpcErrorCode, { origin: RpcErrorOrigin; meaning: string }>> = {
  approval_denied: { origin: 'daemon', meaning: 'the call needed approval and was denied: by the user, its timeout, a rule, or a client that cannot be asked under MCP_BRIDGE_APPROVAL=writes (raised as ApprovalDenied)' },
  budget_exceeded: { origin: 'daemon', meaning: 'the run has made as many tool calls as MCP_BRIDGE_MAX_TOOL_CALLS allows' },
  cancelled: { origin: 'daemon', meaning: 'the call was cancelled (the run ended, or the code gave up on it)' },
  channel_closed: { origin: 'agent', meaning: 'the channel to the daemon closed before the answer came' },
  internal: { origin: 'both', meaning: 'an unexpected failure; the message says what' },
  invalid_arguments: { origin: 'daemon', meaning: "the arguments do not match the tool's input schema" },
  invalid_request: { origin: 'daemon', meaning: "the method's params are malformed" },
  not_connected: { origin: 'agent', meaning: 'mcp.runtime was used outside run_python' },
  protocol_error: { origin: 'agent', meaning: 'the answer from the daemon was malformed' },
  result_too_large: { origin: 'daemon', meaning: 'the answer would not fit in one frame, or the server sent more than can be read' },
  server_exited: { origin: 'daemon', meaning: 'the MCP server exited during the call' },
  server_not_allowed: { origin: 'daemon', meaning: "the server is not in the run's servers allowlist" },
  server_not_loaded: { origin: 'agent', meaning: 'describe_server named a server this run did not load' },
  server_unavailable: { origin: 'daemon', meaning: 'the MCP server cannot be reached (starting failed, shut down, backing off)' },
  timeout: { origin: 'both', meaning: 'the call ran out of time (raised as MCPTimeoutError)' },
  too_large: { origin: 'daemon', meaning: 'a saved tool, or all of them together, over its size limit' },
  tool_error: { origin: 'agent', meaning: 'the tool answered with isError' },
  unknown_method: { origin: 'daemon', meaning: 'no such RPC method' },
  unknown_saved_tool: { origin: 'agent', meaning: 'no saved tool of that name' },
  unknown_server: { origin: 'daemon', meaning: 'no configured MCP server of that name' },
  unknown_tool: { origin: 'both', meaning: 'the server has no tool of that name (the agent knows its tools from the run and answers a stub request for one it lacks at once)' },
  upstream_error: { origin: 'daemon', meaning: 'the MCP server answered the call with an error' },
};
