import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { AgentFrameSchema, formatIssues, MAX_FRAME_BYTES, WIRE_VERSION, type AgentFrame, type HostFrame, type ReadyFrame } from '@mcp-code-mode/protocol';
import type { Logger } from 'pino';
import type { SandboxDeath, SandboxRuntime, StartedSandbox } from '../runtimes/runtime.js';
import { encodeFrame, FrameDecoder } from '../wire/frames.js';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type OutgoingFrame = DistributiveOmit<HostFrame, 'v' | 'id'>;

export interface SandboxEvents {
  frame: [AgentFrame];
  /** The sandbox broke the protocol (bad frame); the run using it must fail. */
  violation: [string];
  /** The sandbox's channel closed: the agent or the sandbox is gone. */
  closed: [];
}

/** A frame for the sandbox that the agent would refuse: over MAX_FRAME_BYTES. */
export class FrameTooLargeError extends Error {
  constructor(readonly frameType: string, readonly bytes: number) {
    super(`the ${frameType} frame is ${bytes} bytes, over the ${MAX_FRAME_BYTES}-byte limit of the sandbox channel`);
    this.name = 'FrameTooLargeError';
  }
}

/**
 * A started sandbox whose agent speaks frames; it knows nothing of runs, nor which runtime serves it.
 * Frames from the sandbox are untrusted: each is checked against the schema before it is emitted.
 */
export class Sandbox extends EventEmitter<SandboxEvents> {
  private readonly decoder = new FrameDecoder();
  private closedFlag = false;
  private destroyed?: Promise<void>;
  ready?: ReadyFrame;
  readonly createdAt = Date.now();
  /** When the agent last proved itself alive (ready or pong). */
  readyAt = 0;

  constructor(
    private readonly started: StartedSandbox,
    private readonly runtime: SandboxRuntime,
    private readonly log: Logger,
  ) {
    super();
    started.stdout.on('data', (chunk: Buffer) => this.onData(chunk));
    started.stderr.on('data', (chunk: Buffer) => this.log.debug({ agentStderr: chunk.toString('utf8').slice(0, 2000) }, 'sandbox stderr'));
    const onClose = (): void => {
      if (this.closedFlag) return;
      this.closedFlag = true;
      this.emit('closed');
    };
    started.stdout.on('end', onClose);
    started.stdout.on('close', onClose);
    started.stdin.on('error', (err) => this.log.debug({ err }, 'sandbox stdin error'));
  }

  get id(): string {
    return this.started.id;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  private onData(chunk: Buffer): void {
    for (const item of this.decoder.push(chunk)) {
      if (item.kind === 'noise') {
        this.log.debug({ bytes: item.bytes }, 'noise outside frames from sandbox');
      } else if (item.kind === 'error') {
        this.emit('violation', item.message);
      } else {
        const parsed = AgentFrameSchema.safeParse(item.value);
        if (parsed.success) this.emit('frame', parsed.data);
        else this.emit('violation', `malformed frame from the sandbox: ${formatIssues(parsed.error, { root: 'frame' })}`);
      }
    }
  }

  /**
   * Sends one frame and returns its id. The agent drops a frame over MAX_FRAME_BYTES, so a call
   * would wait for an answer that never comes: an oversized `rpc_result` is replaced by an error
   * answer saying so, and any other oversized frame throws FrameTooLargeError.
   */
  send(frame: OutgoingFrame): string {
    const id = randomUUID();
    let bytes = encodeFrame({ v: WIRE_VERSION, id, ...frame });
    if (bytes.length > MAX_FRAME_BYTES) {
      if (frame.type !== 'rpc_result') throw new FrameTooLargeError(frame.type, bytes.length);
      const message = `the answer is ${bytes.length} bytes, over the ${MAX_FRAME_BYTES}-byte limit of the sandbox channel; ask the tool for less (a page, a filter, a smaller range)`;
      bytes = encodeFrame({ v: WIRE_VERSION, id, type: 'rpc_result', re: frame.re, ok: false, error: { code: 'result_too_large', message } });
    }
    if (!this.closedFlag) this.started.stdin.write(bytes);
    return id;
  }

  /** Resolves with the first frame that `match` accepts, or rejects on timeout or close. */
  waitFor<T extends AgentFrame>(match: (frame: AgentFrame) => frame is T, timeoutMs: number, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        this.off('frame', onFrame);
        this.off('closed', onClosed);
      };
      const onFrame = (frame: AgentFrame): void => {
        if (match(frame)) {
          cleanup();
          resolve(frame);
        }
      };
      const onClosed = (): void => {
        cleanup();
        reject(new Error(`sandbox closed while waiting for ${what}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`sandbox did not send ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      if (this.closedFlag) return onClosed();
      this.on('frame', onFrame);
      this.on('closed', onClosed);
    });
  }

  async waitReady(timeoutMs: number): Promise<ReadyFrame> {
    this.ready = await this.waitFor((f): f is ReadyFrame => f.type === 'ready', timeoutMs, 'ready');
    this.readyAt = Date.now();
    return this.ready;
  }

  /** True when the agent answers a ping in time: the check before an idle sandbox is used. */
  async ping(timeoutMs: number): Promise<boolean> {
    if (this.closedFlag) return false;
    const id = this.send({ type: 'ping' });
    try {
      await this.waitFor((f): f is AgentFrame => f.type === 'pong' && f.re === id, timeoutMs, 'pong');
      this.readyAt = Date.now();
      return true;
    } catch {
      return false;
    }
  }

  /** Kills and removes the sandbox; safe to call more than once. */
  destroy(): Promise<void> {
    this.destroyed ??= (async () => {
      this.started.stdout.removeAllListeners('data');
      try {
        (this.started.stdin as unknown as { destroy?: () => void }).destroy?.();
      } catch {
        // The stream may already be gone; removal below is what matters.
      }
      await this.runtime.remove(this.started.id);
    })();
    return this.destroyed;
  }

  /** Why the channel closed before a result (asked once it has closed). */
  diagnose(): Promise<SandboxDeath> {
    return this.runtime.diagnose(this.started.id);
  }
}
