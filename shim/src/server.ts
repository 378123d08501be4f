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
import type { ApprovalClosedEvent, ApprovalDecision, ApprovalEvent, RunAttachment, RunLimitsInfo, RunResponse, RunResult } from '@mcp-code-mode/protocol';
import { ControlError, type RunCall } from '@mcp-code-mode/client';
import { approvalHandler, canElicit, initializedLine } from './approvals.js';
import type { IndexSource } from './index-source.js';
import { CAPABILITIES_URI, runPythonTool, SANDBOX_MANUAL, serverInstructions, TOOL_NAME } from './manual.js';
import { ProgressReporter } from './progress.js';
import { CAPABILITIES_RESOURCE, knownStubs, resourcesKey, serverResources, STUB_MIME_TYPE, stubAlias, type StubFetcher } from './resources.js';

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
  /** Progress notifications: the quiet time between two, and from the start to the first (default 200 ms). */
  progressIntervalMs?: number;
  /** How long an answer waits after the last progress notification (default 100 ms; see ProgressReporter). */
  progressSettleMs?: number;
  /** How long a run refused by a stopping daemon waits for the next one (default 30 s). */
  restartWaitMs?: number;
  /** The daemon's server index; without one the model is told there is none (tests of other parts). */
  index?: IndexSource;
  /** Each server's stub module, for its resource; without it (or an index) only the manual is a resource. */
  stubs?: StubFetcher;
  /** MCP_BRIDGE_STRUCTURED_CONTENT: send structuredContent and the output schema too. */
  structuredContent?: boolean;
  /** Timeout default and maximum when no index says the daemon's own (MCP_BRIDGE_TIMEOUT, MAX_TIMEOUT). */
  limits?: RunLimitsInfo;
  /** How long tools/list waits for a fresh index before it answers with the one it has (default 1.5 s). */
  indexWaitMs?: number;
  /** How often the index is asked for again while a daemon runs (default 30 s; 0: never). */
  indexPollMs?: number;
  /** One line for the shim's stderr, which MCP clients keep in their MCP server log (default: process.stderr). */
  log?: (line: string) => void;
}

const DEFAULT_LIMITS: RunLimitsInfo = { timeoutSec: 30, maxTimeoutSec: 120 };
const INDEX_WAIT_MS = 1500;
const INDEX_POLL_MS = 30_000;

/** What a client was last given of a list, what it was last told changed, and the lists on their way. */
interface Seen {
  served?: string;
  notified?: string;
  listing: number;
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
  const index = deps.index;
  const state = () => index?.current() ?? { missing: 'this shim has no index source' };
  const limits = (): RunLimitsInfo => index?.limits() ?? deps.limits ?? DEFAULT_LIMITS;
  const structured = deps.structuredContent === true;
  const server = new Server(
    { name: 'mcp-code-mode', title: 'mcp-code-mode', version: deps.version },
    {
      capabilities: { tools: { listChanged: true }, resources: { listChanged: true } },
      // Fixed at initialize (MCP has no way to change them later): the index as the shim had it at start.
      instructions: serverInstructions(state()),
    },
  );

  // Tell the client the tool changed when the servers it lists did, but only a client that has
  // listed the tool, only once per change, and not while a tools/list is about to answer it anyway.
  // The same for the resources: one per server, so a new or vanished server changes their list.
  const stubs = index && deps.stubs ? deps.stubs : undefined;
  const tools: Seen = { listing: 0 };
  const resources: Seen = { listing: 0 };
  const changed = (seen: Seen, key: string): boolean => {
    if (seen.listing > 0 || seen.served === undefined || key === seen.served || key === seen.notified) return false;
    seen.notified = key;
    return true;
  };
  const notifyIfChanged = (): void => {
    if (!index) return;
    if (changed(tools, index.key())) void server.sendToolListChanged().catch(() => undefined);
    if (stubs && changed(resources, resourcesKey(index.current()))) void server.sendResourceListChanged().catch(() => undefined);
  };
  /** Asks the daemon for the index (starting one if needed), waiting at most indexWaitMs for it. */
  const freshIndex = async (seen: Seen): Promise<void> => {
    if (!index) return;
    seen.listing++;
    try {
      // The index is a first need: a daemon that is not running is started here, but the list
      // answers within indexWaitMs with what it has; a later index comes as list_changed.
      const refreshed = index.refresh({ start: true }).then(notifyIfChanged);
      // Unref'd: once the index came, the wait must not hold the shim open (a client closing it waits).
      await Promise.race([refreshed, delay(deps.indexWaitMs ?? INDEX_WAIT_MS, undefined, { ref: false })]);
    } finally {
      seen.listing--;
    }
  };
  const log = deps.log ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const pollMs = deps.indexPollMs ?? INDEX_POLL_MS;
  let poll: NodeJS.Timeout | undefined;
  server.oninitialized = () => {
    // The one place a user sees whether their client can be asked for approvals (docs/APPROVALS.md).
    log(initializedLine(server.getClientVersion(), server.getClientCapabilities()));
    if (index && pollMs > 0) {
      poll ??= setInterval(() => void index.refresh({ start: false }).then(notifyIfChanged), pollMs);
      poll.unref();
    }
  };
  const closing = server.onclose;
  server.onclose = () => {
    clearInterval(poll);
    closing?.();
  };

  server.setRequestHandler(ListToolsRequestSchema, async () => {
    if (index) {
      await freshIndex(tools);
      tools.served = index.key();
    }
    return { tools: [runPythonTool({ state: state(), limits: limits(), structured })] };
  });

  server.setRequestHandler(ListResourcesRequestSchema, async () => {
    if (!stubs) return { resources: [CAPABILITIES_RESOURCE] };
    await freshIndex(resources);
    resources.served = resourcesKey(state());
    return { resources: [CAPABILITIES_RESOURCE, ...serverResources(state())] };
  });

  server.setRequestHandler(ReadResourceRequestSchema, async (request, extra) => {
    const uri = request.params.uri;
    if (uri === CAPABILITIES_URI) return { contents: [{ uri, mimeType: 'text/markdown', text: SANDBOX_MANUAL }] };
    const alias = stubAlias(uri);
    if (alias === undefined || !index || !stubs) {
      const others = stubs ? `, or resource://mcp-code-mode/servers/<alias>.pyi (${knownStubs(state())})` : '';
      throw new McpError(RESOURCE_NOT_FOUND, `no resource ${uri}; this server has ${CAPABILITIES_URI}${others}`);
    }
    // Without an index yet the daemon decides; an alias the index lacks may be a server added since.
    const listed = (): boolean => {
      const current = state();
      return !('index' in current) || current.index.servers.some((s) => s.alias === alias);
    };
    if (!index.loaded || !listed()) await index.refresh({ start: true }).then(notifyIfChanged);
    if (!listed()) {
      throw new McpError(RESOURCE_NOT_FOUND, `no MCP server has the alias ${JSON.stringify(alias)} (${uri}); ${knownStubs(state())}`);
    }
    try {
      const { stub } = await withDaemon(deps, () => stubs.stub(alias, { signal: extra.signal }));
      return { contents: [{ uri, mimeType: STUB_MIME_TYPE, text: stub }] };
    } catch (err) {
      if (extra.signal.aborted) throw err;
      const code = err instanceof ControlError ? err.code : 'internal';
      const message = err instanceof Error ? err.message : String(err);
      throw new McpError(code === 'unknown_server' ? RESOURCE_NOT_FOUND : ErrorCode.InternalError, `cannot read ${uri} (${code}): ${message}`);
    }
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
            ...(deps.progressSettleMs !== undefined ? { settleMs: deps.progressSettleMs } : {}),
            send: ({ progress: value, message }) =>
              extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: value, message } }).catch(() => undefined),
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
              onError: (err) => log(`mcp-code-mode-shim: an approval question failed: ${(err as Error)?.message ?? String(err)}`),
            }),
          }
        : {}),
    };
    try {
      let answer: CallToolResult;
      try {
        answer = toToolResult(await runWithAutostart(deps, call, options), structured);
      } catch (err) {
        // A cancelled request gets no answer (the SDK drops it); the daemon has already killed the run.
        if (extra.signal.aborted) throw err;
        answer = failureResult(err, Date.now() - started, structured);
      }
      // Not in the same read as the last progress notification (see ProgressReporter).
      await progress?.settled();
      return answer;
    } finally {
      progress?.stop();
      // The first run may have started the daemon: now the index can be had.
      if (index && !index.loaded) void index.refresh({ start: false }).then(notifyIfChanged);
    }
  });

  return server;
}

/** One request other than a run; when no daemon answers, start one and ask again, once. */
async function withDaemon<T>(deps: ShimDeps, ask: () => Promise<T>): Promise<T> {
  try {
    return await ask();
  } catch (err) {
    if (!(err instanceof ControlError) || err.code !== 'daemon_not_running') throw err;
  }
  await deps.ensureDaemon();
  return ask();
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

/**
 * The answer the client hands the model: our text alone, unless structured content was asked for
 * (Claude Code gives the model structuredContent instead of the text when it is there).
 */
export function toToolResult(response: RunResponse, structured = false): CallToolResult {
  return {
    content: [{ type: 'text', text: response.text }, ...(response.attachments ?? []).map(attachmentContent)],
    ...(structured ? { structuredContent: response.result as unknown as Record<string, unknown> } : {}),
    isError: response.result.status !== 'success',
  };
}

/** An image as MCP image content; an exported file as an embedded resource (text when it is UTF-8 text). */
function attachmentContent(attachment: RunAttachment): CallToolResult['content'][number] {
  if (attachment.kind === 'image') return { type: 'image', data: attachment.data, mimeType: attachment.mimeType };
  const uri = attachment.uri ?? `mcp-code-mode://exports/${attachment.name ?? 'file'}`;
  const text = textOf(attachment);
  return {
    type: 'resource',
    resource: text !== undefined ? { uri, mimeType: attachment.mimeType, text } : { uri, mimeType: attachment.mimeType, blob: attachment.data },
  };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The file's text when its type is textual and its bytes are valid UTF-8, else undefined (sent as a blob). */
function textOf(attachment: RunAttachment): string | undefined {
  const type = attachment.mimeType;
  const textual = type.startsWith('text/') || /[/+](json|xml|csv|yaml|x-yaml|javascript|toml)$/.test(type.split(';')[0]!.trim());
  if (!textual) return undefined;
  try {
    return utf8.decode(Buffer.from(attachment.data, 'base64'));
  } catch {
    return undefined;
  }
}

/** A run that got no answer from the daemon, as a result value with the same shape as any other. */
export function failureResult(err: unknown, durationMs: number, structured = false): CallToolResult {
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
    ...(structured ? { structuredContent: result as unknown as Record<string, unknown> } : {}),
    isError: true,
  };
}
