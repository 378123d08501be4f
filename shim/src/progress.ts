/** What one progress notification carries: MCP's `progress` must grow with every notification. */
export interface ProgressUpdate {
  progress: number;
  message: string;
}

export interface ProgressOptions {
  /** Sends one notification; failures (a closed transport) are the sender's to swallow. */
  send: (update: ProgressUpdate) => void;
  /** Quiet time between two notifications; chunks in between are merged into the next one. */
  intervalMs?: number;
  /** The message carries the output so far, cut to its last `maxMessageChars` characters. */
  maxMessageChars?: number;
  setTimer?: (fn: () => void, ms: number) => { unref?: () => void };
  clearTimer?: (timer: unknown) => void;
}

/**
 * Turns a run's output chunks into progress notifications carrying the output lines so far.
 * The first chunk goes out at once; later ones are merged so that a chatty loop cannot flood the
 * client. Nothing is sent after `stop()`, so no notification follows the tool's answer.
 */
export class ProgressReporter {
  private text = '';
  private sent = 0;
  private lastSentAt = -Infinity;
  private timer: unknown;
  private stopped = false;
  private readonly intervalMs: number;
  private readonly maxChars: number;
  private readonly setTimer: NonNullable<ProgressOptions['setTimer']>;
  private readonly clearTimer: NonNullable<ProgressOptions['clearTimer']>;

  constructor(private readonly options: ProgressOptions, private readonly now: () => number = Date.now) {
    this.intervalMs = options.intervalMs ?? 200;
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
    this.lastSentAt = this.now();
    this.sent++;
    this.options.send({ progress: this.sent, message: text });
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
    this.lastSentAt = this.now();
    this.sent++;
    this.options.send({ progress: this.sent, message: this.message() });
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.clearTimer(this.timer);
    this.timer = undefined;
  }
}
