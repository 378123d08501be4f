import { ServerIndexSchema, type RunLimitsInfo, type ServerIndex } from '@mcp-code-mode/protocol';
import { ControlError } from '@mcp-code-mode/client';
import type { IndexState } from './index-text.js';

/** The part of ControlClient the index needs. */
export interface IndexFetcher {
  get(path: string, options?: { signal?: AbortSignal; timeoutMs?: number }): Promise<unknown>;
}

export interface IndexSourceOptions {
  control: IndexFetcher;
  /** Makes sure a daemon answers (starting one if allowed); throws a ControlError saying why not. */
  ensureDaemon: () => Promise<void>;
  /** The shim's own MCP_BRIDGE_TIMEOUT / MAX_TIMEOUT, until a daemon says its own. */
  limits: RunLimitsInfo;
  /** Whole GET /v1/index, the servers' first connections included (default 20 s). */
  fetchTimeoutMs?: number;
}

const FETCH_TIMEOUT_MS = 20_000;

/** What the model's view depends on: a change here is a tools/list_changed. */
function keyOf(state: IndexState, limits: RunLimitsInfo): string {
  if ('missing' in state) return JSON.stringify({ missing: true, limits });
  const { servers, problems } = state.index;
  return JSON.stringify({ servers, problems: problems.length, limits });
}

/** The first sentence of an error, for the index: the full one reaches the model with its first run. */
function shortReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return (/^(.+?[.;])(\s|$)/.exec(message)?.[1] ?? message).slice(0, 160);
}

/**
 * The daemon's server index as the shim last saw it. One refresh at a time; callers that come
 * while one is on its way share it. A daemon that went away keeps the last index (its servers did
 * not change because it stopped); until one is seen, the state says why there is none.
 */
export class IndexSource {
  private state: IndexState = { missing: 'the daemon was not asked yet' };
  private daemonLimits: RunLimitsInfo | undefined;
  private refreshing: Promise<void> | undefined;
  private readonly fetchTimeoutMs: number;

  constructor(private readonly options: IndexSourceOptions) {
    this.fetchTimeoutMs = options.fetchTimeoutMs ?? FETCH_TIMEOUT_MS;
  }

  current(): IndexState {
    return this.state;
  }

  get loaded(): boolean {
    return 'index' in this.state;
  }

  limits(): RunLimitsInfo {
    return this.daemonLimits ?? this.options.limits;
  }

  /** A string that changes exactly when what the model sees of the servers changes. */
  key(): string {
    return keyOf(this.state, this.limits());
  }

  /**
   * Asks the daemon again. With `start`, a daemon that is not running is started first (the
   * index is a first need: the model should see the servers before its first run); without it
   * (the timer), a missing daemon leaves the state as it is.
   */
  refresh(options: { start: boolean }): Promise<void> {
    this.refreshing ??= this.fetch(options.start).finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async fetch(start: boolean): Promise<void> {
    const get = async (): Promise<ServerIndex> => ServerIndexSchema.parse(await this.options.control.get('/v1/index', { timeoutMs: this.fetchTimeoutMs }));
    try {
      this.accept(await get());
    } catch (err) {
      const notRunning = err instanceof ControlError && err.code === 'daemon_not_running';
      if (notRunning && start) {
        try {
          await this.options.ensureDaemon();
          this.accept(await get());
        } catch (startErr) {
          if (!this.loaded) this.state = { missing: shortReason(startErr) };
        }
        return;
      }
      if (!this.loaded) this.state = { missing: notRunning ? 'no daemon is running yet' : shortReason(err) };
    }
  }

  private accept(index: ServerIndex): void {
    this.state = { index };
    if (index.limits) this.daemonLimits = index.limits;
  }
}
