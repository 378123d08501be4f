import { setTimeout as delay } from 'node:timers/promises';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  ErrorCode,
  ListResourcesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  type CallToolResult,
} from '@modelcontextprotocol/sdk/types.js';
import type { ApprovalClosedEvent, ApprovalDecision, ApprovalEvent, RunResponse, RunResult } from '@mcp-code-mode/protocol';
import { ControlError, type RunCall } from '@mcp-code-mode/client';
import { approvalHandler, canElicit } from './approvals.js';
import { CAPABILITIES_URI, runPythonTool, SANDBOX_MANUAL, TOOL_NAME } from './manual.js';
import { ProgressReporter } from './progress.js';

/** The part of ControlClient the shim uses. */
export interface RunForwarder {
  run(
    call: RunCall,
    options?: {
      signal?: AbortSignal;
      onOutput?: (stream: string, text: string) => void;
      onApproval?: (event: ApprovalEvent | ApprovalClosedEvent) => void;
    },
  ): Promise<RunResponse>;
  answerApproval(id: string, decision: ApprovalDecision): Promise<void>;
}

export interface ShimDeps {
  control: RunForwarder;
  /** Makes sure a daemon answers (starting one if allowed); throws a ControlError saying why not. */
  ensureDaemon: () => Promise<void>;
  version: string;
  progressIntervalMs?: number;
  /** How long a run refused by a stopping daemon waits for the next one (default 30 s). */
  restartWaitMs?: number;
}

/** MCP's code for "no such resource". */
const RESOURCE_NOT_FOUND = -32002;

/**
 * The stdio MCP server. It is the SDK's low-level Server rather than McpServer on purpose: McpServer
 * checks tool arguments against the input schema itself and turns bad input into an error before our
 * handler runs, while the design wants every bad input to reach the daemon and come back as a
 * `validation_error` result. Holds no state between calls.
 */
export function createShimServer(deps: ShimDeps): Server {
  const server = new Server(
    { name: 'mcp-code-mode', title: 'mcp-code-mode', version: deps.version },
    {
      capabilities: { tools: {}, resources: {} },
      instructions: `Use ${TOOL_NAME} to run Python that calls your other MCP servers as async functions; read ${CAPABILITIES_URI} for the sandbox manual.`,
    },
  );
  const tool = runPythonTool();

  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: [tool] }));

  server.setRequestHandler(ListResourcesRequestSchema, async () => ({
    resources: [
      {
        uri: CAPABILITIES_URI,
        name: 'capabilities',
        title: 'mcp-code-mode sandbox manual',
        description: 'What run_python code can use: MCP server proxies, the mcp.runtime helpers, limits.',
        mimeType: 'text/markdown',
      },
    ],
  }));

  server.setRequestHandler(ReadResourceRequestSchema, async (request) => {
    if (request.params.uri !== CAPABILITIES_URI) {
      throw new McpError(RESOURCE_NOT_FOUND, `no resource ${request.params.uri}; this server has only ${CAPABILITIES_URI}`);
    }
    return { contents: [{ uri: CAPABILITIES_URI, mimeType: 'text/markdown', text: SANDBOX_MANUAL }] };
  });

  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    if (request.params.name !== TOOL_NAME) {
      throw new McpError(ErrorCode.InvalidParams, `unknown tool ${JSON.stringify(request.params.name)}; this server has only ${TOOL_NAME}`);
    }
    const started = Date.now();
    const token = request.params._meta?.progressToken;
    const progress =
      token === undefined
        ? undefined
        : new ProgressReporter({
            intervalMs: deps.progressIntervalMs ?? 200,
            send: ({ progress: value, message }) =>
              void extra
                .sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: value, message } })
                .catch(() => undefined),
          });
    // Whatever the client sent goes to the daemon as is: it validates, and answers validation_error.
    // canElicit and client are ours: set after, so that arguments cannot claim them.
    const asking = canElicit(server.getClientCapabilities());
    const clientName = server.getClientVersion()?.name;
    const call: RunCall = { code: undefined, ...(request.params.arguments ?? {}), canElicit: asking, ...(clientName ? { client: clientName } : {}) };
    const options = {
      signal: extra.signal,
      ...(progress ? { onOutput: (stream: string, text: string) => progress.add(stream, text) } : {}),
      ...(asking
        ? {
            onApproval: approvalHandler(server, extra, {
              answer: (id, decision) => deps.control.answerApproval(id, decision),
              onAsk: (event) => progress?.note(`waiting for approval: ${event.server}.${event.tool}${event.count > 1 ? ` (${event.count} calls)` : ''}`),
              onError: (err) => process.stderr.write(`mcp-code-mode-shim: an approval question failed: ${(err as Error)?.message ?? String(err)}\n`),
            }),
          }
        : {}),
    };
    try {
      return toToolResult(await runWithAutostart(deps, call, options));
    } catch (err) {
      // A cancelled request gets no answer (the SDK drops it); the daemon has already killed the run.
      if (extra.signal.aborted) throw err;
      return failureResult(err, Date.now() - started);
    } finally {
      progress?.stop();
    }
  });

  return server;
}

/** How long a run that a stopping daemon refused waits for the next daemon, in all. */
const RESTART_WAIT_MS = 30_000;
const RESTART_POLL_MS = 200;

/**
 * One run; when no daemon took it, start the daemon and send it again. Only a run that never
 * started is sent again: a refused connection, one that a stopping daemon closed before answering
 * (it answers before it starts a run), or its `shutting_down` refusal (sent again until that daemon
 * is gone and a new one answers). A connection that broke mid-run is not, since the code may
 * already have called tools with side effects.
 */
async function runWithAutostart(deps: ShimDeps, call: RunCall, options: Parameters<RunForwarder['run']>[1]): Promise<RunResponse> {
  const deadline = Date.now() + (deps.restartWaitMs ?? RESTART_WAIT_MS);
  let starts = 0;
  for (;;) {
    try {
      return await deps.control.run(call, options);
    } catch (err) {
      if (!(err instanceof ControlError) || Date.now() > deadline) throw err;
      if (err.code === 'shutting_down') await delay(RESTART_POLL_MS, undefined, options?.signal ? { signal: options.signal } : {});
      else if (err.code !== 'daemon_not_running' || starts++ >= 2) throw err;
    }
    await deps.ensureDaemon();
  }
}

export function toToolResult(response: RunResponse): CallToolResult {
  return {
    content: [{ type: 'text', text: response.text }],
    structuredContent: response.result as unknown as Record<string, unknown>,
    isError: response.result.status !== 'success',
  };
}

/** A run that got no answer from the daemon, as a result value with the same shape as any other. */
export function failureResult(err: unknown, durationMs: number): CallToolResult {
  const code = err instanceof ControlError ? err.code : 'internal';
  const message = err instanceof Error ? err.message : String(err);
  const advice =
    code === 'daemon_unreachable'
      ? ' The run was lost; the next call starts a new daemon if needed.'
      : code === 'busy'
        ? ' Retry shortly.'
        : '';
  const result: RunResult = {
    status: 'error',
    summary: `Daemon error (${code})`,
    exitCode: null,
    stdout: [],
    stderr: [],
    error: { type: 'DaemonError', message: `${message}${advice}` },
    servers: [],
    durationMs,
    toolCalls: 0,
  };
  return {
    content: [{ type: 'text', text: `run_python failed before producing a result (${code}): ${message}${advice}` }],
    structuredContent: result as unknown as Record<string, unknown>,
    isError: true,
  };
}
