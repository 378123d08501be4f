import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { RUN_STATUSES, type PoolStatus } from '@mcp-code-mode/protocol';
import { knownStatus } from './run-counts.js';

const PREFIX = 'mcp_code_mode_';

/**
 * The daemon's Prometheus metrics, in a registry of its own (never prom-client's global one, so two
 * daemons in one test process do not share counters). Only the health endpoint serves them, so the
 * daemon loads this module (and prom-client) only when that endpoint is on; `/status` counts runs
 * with RunCounter.
 */
export class DaemonMetrics {
  readonly registry = new Registry();
  private readonly runs: Counter<'status'>;
  private readonly runSeconds: Histogram<'status'>;
  private readonly toolCallSeconds: Histogram<'server' | 'outcome'>;

  constructor(poolStats: () => PoolStatus, options: { processMetrics?: boolean; runtime?: { kind: string; name: string; version: string } } = {}) {
    const registers = [this.registry];
    if (options.runtime) {
      // Which runtime serves the sandboxes, as Prometheus' info convention has it: a constant 1 with labels.
      new Gauge({ name: `${PREFIX}runtime_info`, help: 'The sandbox runtime (docker, podman or bwrap) and its version.', labelNames: ['runtime', 'name', 'version'], registers }).set(
        { runtime: options.runtime.kind, name: options.runtime.name, version: options.runtime.version },
        1,
      );
    }
    this.runs = new Counter({ name: `${PREFIX}runs_total`, help: 'Finished runs by status.', labelNames: ['status'], registers });
    for (const status of RUN_STATUSES) this.runs.inc({ status }, 0);
    this.runSeconds = new Histogram({
      name: `${PREFIX}run_duration_seconds`,
      help: 'Run latency from request to result, by status.',
      labelNames: ['status'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    });
    this.toolCallSeconds = new Histogram({
      name: `${PREFIX}tool_call_duration_seconds`,
      help: 'Latency of MCP tool calls made by sandboxed code, by server and outcome.',
      labelNames: ['server', 'outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    // Gauges read the pool when scraped, so they are never stale and need no timer.
    const gauge = (name: string, help: string, read: (s: PoolStatus) => number): void => {
      new Gauge({
        name: `${PREFIX}pool_${name}`,
        help,
        registers,
        collect() {
          this.set(read(poolStats()));
        },
      });
    };
    gauge('warm', 'Started sandboxes waiting for a run.', (s) => s.warm);
    gauge('starting', 'Sandboxes being started.', (s) => s.starting);
    gauge('busy', 'Sandboxes running code.', (s) => s.busy);
    gauge('queued', 'Runs waiting for a sandbox.', (s) => s.queued);
    gauge('target', 'Warm sandboxes the pool aims to keep (grows while runs wait; 0 while it sleeps).', (s) => s.target);
    gauge('sleeping', '1 while the pool keeps no warm sandbox after MCP_BRIDGE_RUNTIME_IDLE_TIMEOUT.', (s) => (s.sleeping ? 1 : 0));
    gauge('failed_starts', 'Sandbox starts that failed since the daemon started.', (s) => s.failedStarts);
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: PREFIX });
  }

  observeRun(status: string, durationMs: number): void {
    const known = knownStatus(status);
    this.runs.inc({ status: known });
    this.runSeconds.observe({ status: known }, durationMs / 1000);
  }

  observeToolCall(server: string, outcome: 'ok' | 'error' | 'cancelled', durationMs: number): void {
    this.toolCallSeconds.observe({ server, outcome }, durationMs / 1000);
  }

  /** The Prometheus text exposition and its content type. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
