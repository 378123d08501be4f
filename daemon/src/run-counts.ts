import { RUN_STATUSES, type RunCounts, type RunStatus } from '@mcp-code-mode/protocol';

/** A run's status as the counts and metrics know it: one of RUN_STATUSES, anything else an error. */
export function knownStatus(status: string): RunStatus {
  return (RUN_STATUSES as readonly string[]).includes(status) ? (status as RunStatus) : 'error';
}

/** The runs and tool calls of this daemon, for `/status` (always kept; the Prometheus metrics only with the health endpoint). */
export class RunCounter {
  private readonly counts: RunCounts = { total: 0, success: 0, error: 0, timeout: 0, validation_error: 0, toolCalls: 0 };

  observeRun(status: string): void {
    this.counts.total++;
    this.counts[knownStatus(status)]++;
  }

  observeToolCall(): void {
    this.counts.toolCalls++;
  }

  snapshot(): RunCounts {
    return { ...this.counts };
  }
}
