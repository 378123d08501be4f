import type { DaemonStatus, HttpStatus, PoolStatus, SessionsStatus } from '@mcp-code-mode/protocol';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildHealthApp } from './health/health-app.js';
import type { DaemonMetrics } from './metrics.js';
import { RunCounter } from './run-counts.js';
import type { ToolHost } from './rpc/tool-host.js';
import { buildStatus } from './status.js';

/** Loopback only: the health endpoint carries no authentication, so it must not face a network. */
export const HEALTH_HOST = '127.0.0.1';

export interface ObservabilityOptions {
  pool: { stats(): PoolStatus };
  toolHost: ToolHost;
  /** Open sessions, for the status (ids cut short). */
  sessions?: () => SessionsStatus;
  /** Facts fixed at start (`engine` names the sandbox runtime: an engine, or bwrap). */
  info: { version: string; engine: { name: string; version: string; via: string }; image: string; socket: string };
  /** The runtime, for the metrics' runtime_info. */
  runtime?: { kind: string; name: string; version: string };
  /** MCP_BRIDGE_HTTP_PORT; 0 disables the health endpoint. */
  httpPort: number;
  log: Logger;
  now?: () => number;
}

/**
 * Everything that watches the daemon: run and tool-call metrics, the status document (shared by the
 * control socket and the health endpoint), and the health endpoint's own server.
 */
export class Observability {
  /** The Prometheus metrics, made by loadMetrics() when the health endpoint is on; else never loaded. */
  private metrics: DaemonMetrics | undefined;
  private readonly counts = new RunCounter();
  private readonly startedAt: number;
  private readonly now: () => number;
  private health: FastifyInstance | undefined;
  private http: HttpStatus = { enabled: false };

  constructor(private readonly options: ObservabilityOptions) {
    this.now = options.now ?? Date.now;
    this.startedAt = this.now();
  }

  /**
   * With the health endpoint on, loads prom-client and makes the metrics it serves: before the
   * control socket listens, so that no run goes unobserved. Off (port 0), nothing is loaded.
   */
  async loadMetrics(): Promise<void> {
    if (this.options.httpPort === 0 || this.metrics) return;
    const { DaemonMetrics } = await import('./metrics.js');
    this.metrics = new DaemonMetrics(() => this.options.pool.stats(), { ...(this.options.runtime ? { runtime: this.options.runtime } : {}) });
  }

  readonly uptimeSec = (): number => Math.max(0, Math.round((this.now() - this.startedAt) / 1000));

  readonly onRun = (status: string, durationMs: number): void => {
    this.counts.observeRun(status);
    this.metrics?.observeRun(status, durationMs);
  };

  /** For the RPC router: every finished tool call, timed. */
  readonly onToolCall = (server: string, outcome: 'ok' | 'error' | 'cancelled', durationMs: number): void => {
    this.counts.observeToolCall();
    this.metrics?.observeToolCall(server, outcome, durationMs);
  };

  readonly status = (): DaemonStatus =>
    buildStatus({
      info: () => ({ ...this.options.info, pid: process.pid, uptimeSec: this.uptimeSec(), rssBytes: process.memoryUsage.rss() }),
      pool: () => this.options.pool.stats(),
      toolHost: this.options.toolHost,
      runs: () => this.counts.snapshot(),
      http: () => this.http,
      ...(this.options.sessions ? { sessions: this.options.sessions } : {}),
    });

  /**
   * Starts the health endpoint when a port is set. A port that is taken does not stop the daemon
   * (run_python matters more than its dashboard): the failure is logged and shown in the status.
   */
  async startHealth(): Promise<HttpStatus> {
    const port = this.options.httpPort;
    if (port === 0) return (this.http = { enabled: false });
    await this.loadMetrics();
    const app = buildHealthApp({ status: this.status, metrics: this.metrics!, uptimeSec: this.uptimeSec });
    try {
      await app.listen({ host: HEALTH_HOST, port });
      const address = app.server.address();
      this.health = app;
      this.http = typeof address === 'object' && address ? { enabled: true, address: address.address, port: address.port } : { enabled: true, address: HEALTH_HOST, port };
      this.options.log.info({ url: `http://${HEALTH_HOST}:${this.http.port}/healthz` }, 'health endpoint listening');
    } catch (err) {
      await app.close().catch(() => undefined);
      this.http = { enabled: false, error: `cannot listen on ${HEALTH_HOST}:${port}: ${(err as Error).message}` };
      this.options.log.error({ err }, 'health endpoint not started (the daemon runs on without it)');
    }
    return this.http;
  }

  async close(): Promise<void> {
    const app = this.health;
    this.health = undefined;
    await app?.close();
  }
}
