/** The daemon is stopping: no run starts any more (the caller may send it to the next daemon). */
export class ShuttingDownError extends Error {
  constructor() {
    super('the daemon is shutting down; no run was started (send it again once a daemon is back: the shim does so by itself)');
    this.name = 'ShuttingDownError';
  }
}

/** Thrown when the wait queue is full: the caller should answer "busy". */
export class BusyError extends Error {
  constructor(readonly running: number, readonly queued: number) {
    super(`all ${running} sandboxes are busy and ${queued} runs are already waiting; retry shortly, or raise MCP_BRIDGE_POOL_MAX / MCP_BRIDGE_QUEUE_MAX`);
    this.name = 'BusyError';
  }
}

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * At most `limit` runs hold a container at once; up to `queueMax` more wait in FIFO order; beyond
 * that a run is refused at once. A waiter whose signal aborts leaves the queue.
 */
export class RunGate {
  private active = 0;
  private readonly waiters: Waiter[] = [];

  constructor(readonly limit: number, private readonly queueMax: number) {}

  get running(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiters.length;
  }

  async enter(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (this.active < this.limit && this.waiters.length === 0) {
      this.active++;
      return;
    }
    if (this.waiters.length >= this.queueMax) throw new BusyError(this.active, this.waiters.length);
    await new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject,
      };
      const onAbort = (): void => {
        const at = this.waiters.indexOf(waiter);
        if (at >= 0) this.waiters.splice(at, 1);
        reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  leave(): void {
    const next = this.waiters.shift();
    if (next) next.resolve();
    else this.active--;
  }

  /** Refuses every waiter (shutdown). */
  rejectAll(err: Error): void {
    for (const waiter of this.waiters.splice(0)) waiter.reject(err);
  }
}
