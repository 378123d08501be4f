/** What one progress notification carries: MCP's `progress` must grow with every notification. */
export interface ProgressUpdate {
  progress: number;
  message: string;
}

export interface ProgressOptions {
  /**
   * Sends one notification; failures (a closed transport) are the sender's to swallow. A promise
   * that settles once the notification is written makes `settle()` count from that moment.
   */
  send: (update: ProgressUpdate) => void | Promise<unknown>;
  /**
   * Quiet time between two notifications, and from the start of the run to the first one; chunks
   * in between are merged into the next one. A run shorter than this sends none.
   */
  intervalMs?: number;
  /**
   * How long the answer is held back after the last notification (see `settle()`); default 100 ms.
   */
  settleMs?: number;
  /** The message carries the output so far, cut to its last `maxMessageChars` characters. */
  maxMessageChars?: number;
  setTimer?: (fn: () => void, ms: number) => { unref?: () => void };
  clearTimer?: (timer: unknown) => void;
}

/**
 * Turns a run's output chunks into progress notifications carrying the output lines so far.
 * Chunks are merged so that a chatty loop cannot flood the client, and a short run sends none.
 * Nothing is sent after `stop()`, so no notification follows the tool's answer.
 *
 * Why the answer waits a little after the last notification (`settle()`): the MCP TypeScript SDK
 * (in Claude Code, among others) handles a notification one microtask later than a response that
 * came in the same read, and the response removes the request's progress handler first; the client
 * then logs "Received a progress notification for an unknown token" as a protocol error although
 * the notification was sent first. A notification and the answer written some milliseconds apart
 * reach the client in separate reads.
 */
export class ProgressReporter {
  private text = '';
  private sent = 0;
  /** The run's start counts as a notification: the first one waits an interval too. */
  private lastSentAt: number;
  private timer: unknown;
  private stopped = false;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly intervalMs: number;
  private readonly settleMs: number;
  private readonly maxChars: number;
  private readonly setTimer: NonNullable<ProgressOptions['setTimer']>;
  private readonly clearTimer: NonNullable<ProgressOptions['clearTimer']>;

  constructor(private readonly options: ProgressOptions, private readonly now: () => number = () => performance.now()) {
    this.intervalMs = options.intervalMs ?? 200;
    this.settleMs = options.settleMs ?? 100;
    this.lastSentAt = now();
    this.maxChars = options.maxMessageChars ?? 4000;
    this.setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = options.clearTimer ?? ((t) => clearTimeout(t as NodeJS.Timeout));
  }

  /** One chunk of output (stdout or stderr) as the daemon streamed it. */
  add(stream: string, chunk: string): void {
    if (this.stopped || chunk === '') return;
    const text = stream === 'stderr' ? chunk.replace(/^(?=.)/gm, '[stderr] ') : chunk;
    // Only the tail is ever shown, so keep only a little more than the tail.
    this.text = (this.text + text).slice(-this.maxChars * 2);
    if (this.timer !== undefined) return;
    const wait = this.lastSentAt + this.intervalMs - this.now();
    if (wait <= 0) return this.flush();
    const timer = this.setTimer(() => {
      this.timer = undefined;
      this.flush();
    }, wait);
    timer.unref?.();
    this.timer = timer;
  }

  /** A message of its own at once (the run waits for approval), apart from the output. */
  note(text: string): void {
    if (this.stopped) return;
    this.sent++;
    this.dispatch({ progress: this.sent, message: text });
  }

  /** The output so far as one message: its last lines, cut to the size limit. */
  message(): string {
    const trimmed = this.text.replace(/\n+$/, '');
    if (trimmed.length <= this.maxChars) return trimmed;
    const tail = trimmed.slice(-this.maxChars);
    const firstBreak = tail.indexOf('\n');
    return '…\n' + (firstBreak >= 0 ? tail.slice(firstBreak + 1) : tail);
  }

  private flush(): void {
    if (this.stopped) return;
    this.sent++;
    this.dispatch({ progress: this.sent, message: this.message() });
  }

  private dispatch(update: ProgressUpdate): void {
    this.lastSentAt = this.now();
    const sending = this.options.send(update);
    if (typeof sending?.then !== 'function') return;
    const written: Promise<void> = sending.then(
      () => void (this.lastSentAt = Math.max(this.lastSentAt, this.now())),
      () => undefined,
    );
    this.inFlight.add(written);
    void written.then(() => this.inFlight.delete(written));
  }


  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.clearTimer(this.timer);
    this.timer = undefined;
  }

  /**
   * Stops, then how long the answer should wait so that it is not written within `settleMs` of
   * the last notification: undefined when none was sent (no wait at all), else the milliseconds
   * left, 0 when it was long enough ago (still a timer: where stdout is written asynchronously
   * the notification may yet sit in the write queue, and a turn of the event loop flushes it).
   * Counts from when the last notification was written once `settled()` has waited for it.
   */
  settle(): number | undefined {
    this.stop();
    if (this.sent === 0) return undefined;
    return Math.max(0, this.lastSentAt + this.settleMs - this.now());
  }

  /** Stops, then resolves once the answer may be written (see `settle()`). */
  async settled(): Promise<void> {
    this.stop();
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
    let wait = this.settle();
    if (wait === undefined) return;
    // Node's timers count from the event loop's cached clock and may fire a little early: ask again.
    do await new Promise<void>((resolve) => this.setTimer(resolve, wait!));
    while ((wait = this.settle()!) > 0);
  }
}
