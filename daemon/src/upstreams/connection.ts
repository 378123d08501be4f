import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from 'pino';
import type { ServerConfig } from '../config/schema.js';
import { maskSecrets, secretsOf } from '../config/redact.js';
import { RpcFailure } from '../rpc/rpc-failure.js';
import { VERSION } from '../version.js';
import { loadSdk } from './sdk.js';
import { STDIO_MAX_MESSAGE_BYTES, transportAttempts, type TransportAttempt } from './transports.js';

export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'failed';

export interface ConnectionOptions {
  name: string;
  config: ServerConfig;
  log: Logger;
  /** The transports to try; tests pass in-memory ones. */
  attempts?: (config: ServerConfig, onStderr: (line: string) => void) => TransportAttempt[];
  now?: () => number;
  /** Limit for `initialize` and for listing tools, which no run's timeout covers. */
  setupTimeoutMs?: number;
}

export interface CallOptions {
  signal: AbortSignal;
  timeoutMs: number;
}

const STDERR_TAIL = 10;
// Failures further apart than this are unrelated, so a server that crashes now and then is
// restarted at once; only a crash loop backs off.
const FAILURES_RELATED_MS = 60_000;
const MAX_BACKOFF_MS = 30_000;

/** Delay before restart attempt n+1 after n related failures: 0, 1 s, 2 s, 4 s ... 30 s. */
export function backoffMs(failures: number): number {
  return failures <= 1 ? 0 : Math.min(1000 * 2 ** (failures - 2), MAX_BACKOFF_MS);
}

/** `promise`, or a rejection as soon as `signal` aborts; the promise itself runs on for other waiters. */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined, what: string): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(new RpcFailure('cancelled', `${what} was cancelled`));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new RpcFailure('cancelled', `${what} was cancelled`));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

/**
 * One long-lived MCP client for one configured server. It connects on first use, and every caller
 * arriving meanwhile shares that one attempt; one client then serves concurrent calls (JSON-RPC
 * ids). When the server exits or its transport breaks, the error is kept for status, and the next
 * use starts it again, at once the first time and with growing delays in a crash loop.
 */
export class UpstreamConnection {
  readonly name: string;
  readonly config: ServerConfig;
  private readonly log: Logger;
  private readonly attempts: NonNullable<ConnectionOptions['attempts']>;
  private readonly now: () => number;
  private readonly setupTimeoutMs: number;
  private readonly secrets: string[];
  private readonly stderrTail: string[] = [];

  private current: ConnectionState = 'idle';
  private client: Client | undefined;
  private connecting: Promise<Client> | undefined;
  // Bumped whenever a client is dropped, so late callbacks of an old client change nothing.
  private generation = 0;
  private cachedTools: Tool[] | undefined;
  private toolsLoading: Promise<Tool[]> | undefined;
  private toolsVersion = 0;
  private failures = 0;
  private lastFailureAt = Number.NEGATIVE_INFINITY;
  private retryAt = 0;
  private error: string | undefined;
  private closed = false;
  /** Clients whose transport dropped a message too long to read (the connection is then reset). */
  private readonly overflowed = new WeakSet<Client>();

  constructor(options: ConnectionOptions) {
    this.name = options.name;
    this.config = options.config;
    this.log = options.log.child({ server: options.name });
    this.attempts = options.attempts ?? transportAttempts;
    this.now = options.now ?? Date.now;
    this.setupTimeoutMs = options.setupTimeoutMs ?? 30_000;
    this.secrets = secretsOf(options.config);
  }

  get state(): ConnectionState {
    return this.current;
  }

  /** The last failure (start, exit, broken transport), masked; kept after a successful restart. */
  get lastError(): string | undefined {
    return this.error;
  }

  get toolCount(): number | undefined {
    return this.cachedTools?.length;
  }

  /** The server's own `instructions` from initialize, when connected. */
  instructions(): string | undefined {
    return this.client?.getInstructions();
  }

  mask(text: string): string {
    return maskSecrets(text, this.secrets);
  }

  private onStderr = (line: string): void => {
    const masked = this.mask(line);
    this.stderrTail.push(masked);
    if (this.stderrTail.length > STDERR_TAIL) this.stderrTail.shift();
    this.log.info({ stream: 'stderr' }, `${this.name}: ${masked}`);
  };

  private tail(): string {
    const lines = this.stderrTail.slice(-3);
    return lines.length > 0 ? `; its last stderr: ${lines.join(' | ')}` : '';
  }

  private fail(reason: string): void {
    const now = this.now();
    if (now - this.lastFailureAt > FAILURES_RELATED_MS) this.failures = 0;
    this.failures++;
    this.lastFailureAt = now;
    this.retryAt = now + backoffMs(this.failures);
    this.error = reason;
    this.current = 'failed';
  }

  /** The connected client, starting the server if needed. */
  connect(signal?: AbortSignal): Promise<Client> {
    if (this.closed) return Promise.reject(new RpcFailure('server_unavailable', `MCP server "${this.name}" is shut down (the daemon is stopping or its config was reloaded)`));
    if (this.client) return Promise.resolve(this.client);
    if (!this.connecting) {
      const wait = this.retryAt - this.now();
      if (wait > 0) {
        return Promise.reject(
          new RpcFailure('server_unavailable', `MCP server "${this.name}" keeps failing (${this.error}); the next restart is allowed in ${Math.ceil(wait / 1000)} s`),
        );
      }
      const attempt = this.open();
      this.connecting = attempt;
      // Waiters may all have given up; the outcome is recorded in state and log, not lost.
      attempt.then(
        () => (this.connecting = undefined),
        () => (this.connecting = undefined),
      );
    }
    return abortable(this.connecting, signal, `starting MCP server "${this.name}"`);
  }

  private async open(): Promise<Client> {
    this.current = 'connecting';
    const generation = ++this.generation;
    const errors: string[] = [];
    let attempts: TransportAttempt[] = [];
    try {
      attempts = this.attempts(this.config, this.onStderr);
    } catch (err) {
      errors.push(this.mask((err as Error).message));
    }
    const { client: { Client }, types: { ToolListChangedNotificationSchema } } = await loadSdk();
    for (const attempt of attempts) {
      const client = new Client({ name: 'mcp-code-mode', version: VERSION }, { capabilities: {} });
      client.setNotificationHandler(ToolListChangedNotificationSchema, async () => this.onToolsChanged(generation));
      try {
        await client.connect(await attempt.create(), { timeout: this.setupTimeoutMs });
      } catch (err) {
        errors.push(`${attempt.kind}: ${this.mask((err as Error).message)}`);
        // The attempt already failed; a failure to tidy it up adds nothing the log should lack.
        await client.close().catch((closeErr: unknown) => this.log.debug({ err: this.mask(String(closeErr)) }, 'closing a failed attempt failed'));
        continue;
      }
      if (this.closed || generation !== this.generation) {
        await client.close();
        throw new RpcFailure('server_unavailable', `MCP server "${this.name}" was shut down while starting`);
      }
      client.onclose = () => this.onClosed(generation);
      client.onerror = (err) => {
        if (/ReadBuffer exceeded maximum size/.test(err.message)) this.overflowed.add(client);
        this.log.debug({ err: this.mask(err.message) }, 'transport error');
      };
      this.client = client;
      this.current = 'connected';
      const info = client.getServerVersion();
      this.log.info({ transport: attempt.kind, serverName: info?.name, serverVersion: info?.version }, `MCP server ${this.name} connected`);
      return client;
    }
    const reason = `could not be started (${errors.join('; ')})${this.tail()}`;
    this.fail(reason);
    this.log.warn({ reason }, `MCP server ${this.name} failed to start`);
    throw new RpcFailure('server_unavailable', `MCP server "${this.name}" ${reason}`);
  }

  private onClosed(generation: number): void {
    if (this.closed || generation !== this.generation) return;
    this.generation++;
    this.client = undefined;
    this.cachedTools = undefined;
    this.fail(`the server exited${this.tail()}`);
    this.log.warn({ reason: this.error }, `MCP server ${this.name} exited; it is restarted on next use`);
  }

  private onToolsChanged(generation: number): void {
    if (generation !== this.generation) return;
    this.toolsVersion++;
    this.cachedTools = undefined;
    this.log.info(`MCP server ${this.name} changed its tools; the list is fetched again on next use`);
  }

  /** Drops a client whose transport broke without closing (an HTTP server that went away). */
  private async drop(client: Client, reason: string): Promise<void> {
    if (client !== this.client) return;
    this.generation++;
    this.client = undefined;
    this.cachedTools = undefined;
    this.fail(reason);
    this.log.warn({ reason }, `MCP server ${this.name} is unreachable; it is reconnected on next use`);
    await client.close();
  }

  /**
   * One request on the connected client, with a timeout and the caller's signal; the SDK sends
   * `notifications/cancelled` to the server when either ends the call. Failures become RpcFailure.
   */
  async request<T>(what: string, options: CallOptions, run: (client: Client, requestOptions: RequestOptions) => Promise<T>): Promise<T> {
    const client = await this.connect(options.signal);
    try {
      return await run(client, { signal: options.signal, timeout: options.timeoutMs, maxTotalTimeout: options.timeoutMs });
    } catch (err) {
      throw await this.translate(err, what, options, client);
    }
  }

  private async translate(err: unknown, what: string, options: CallOptions, client: Client): Promise<RpcFailure> {
    if (err instanceof RpcFailure) return err;
    if (options.signal.aborted) return new RpcFailure('cancelled', `${what} was cancelled`);
    const message = this.mask(err instanceof Error ? err.message : String(err));
    const { McpError, ErrorCode } = (await loadSdk()).types;
    if (err instanceof McpError) {
      if (err.code === ErrorCode.RequestTimeout) {
        const limit = options.timeoutMs < 1000 ? `${options.timeoutMs} ms` : `${Math.round(options.timeoutMs / 100) / 10} s`;
        return new RpcFailure('timeout', `${what} got no answer within ${limit}; the call was cancelled`);
      }
      if (err.code === ErrorCode.ConnectionClosed && this.overflowed.has(client)) {
        return new RpcFailure(
          'result_too_large',
          `MCP server "${this.name}" sent a message over ${STDIO_MAX_MESSAGE_BYTES} bytes during ${what}, more than can be read; its connection was reset and it restarts on next use. Ask the tool for less (a page, a filter, a smaller range)`,
        );
      }
      if (err.code === ErrorCode.ConnectionClosed) {
        return new RpcFailure('server_exited', `MCP server "${this.name}" exited during ${what}${this.tail()}; it is restarted on next use`);
      }
      return new RpcFailure('upstream_error', `${what} failed: ${message}`);
    }
    // Anything else is the transport, not the server's answer: start afresh next time.
    await this.drop(client, `transport failed: ${message}`);
    return new RpcFailure('server_unavailable', `MCP server "${this.name}" could not be reached during ${what}: ${message}`);
  }

  /** The tool list, cached until the server says it changed or the connection is renewed. */
  async tools(signal?: AbortSignal): Promise<Tool[]> {
    if (this.cachedTools && this.client) return this.cachedTools;
    if (!this.toolsLoading) {
      const version = this.toolsVersion;
      // Shared by every waiter, so no single caller's signal may cancel it.
      const loading = this.request(`listing the tools of "${this.name}"`, { signal: new AbortController().signal, timeoutMs: this.setupTimeoutMs }, async (client, options) => {
        const tools: Tool[] = [];
        let cursor: string | undefined;
        do {
          const page = await client.listTools(cursor ? { cursor } : {}, options);
          tools.push(...page.tools);
          cursor = page.nextCursor;
        } while (cursor);
        if (client === this.client && version === this.toolsVersion) this.cachedTools = tools;
        return tools;
      });
      this.toolsLoading = loading;
      loading.then(
        () => (this.toolsLoading = undefined),
        () => (this.toolsLoading = undefined),
      );
    }
    return abortable(this.toolsLoading, signal, `listing the tools of "${this.name}"`);
  }

  /** Stops the server for good (daemon shutdown, or its entry changed on reload). */
  async close(): Promise<void> {
    this.closed = true;
    this.generation++;
    const client = this.client;
    this.client = undefined;
    this.current = 'idle';
    await client?.close();
  }
}
