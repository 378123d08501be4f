// A SandboxRuntime for unit tests: each sandbox is a scripted agent speaking the real framed
// protocol over in-memory pipes, so the real Sandbox, pool, run loop and run service run on top of
// it with no engine at all. What an agent does with an `execute` is the test's script.
import { randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { HostFrameSchema, WIRE_VERSION, type HostFrame } from '@mcp-code-mode/protocol';
import type { RuntimeInfo, SandboxDeath, SandboxRecord, SandboxRuntime, StartedSandbox } from '../../daemon/src/runtimes/runtime.ts';
import { encodeFrame, FrameDecoder } from '../../daemon/src/wire/frames.ts';

/** The agent side of one fake sandbox, for scripts. */
export class FakeAgent {
  readonly stdin = new PassThrough();
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly received: HostFrame[] = [];
  death: SandboxDeath = { kind: 'exited', exitCode: 1 };
  private readonly decoder = new FrameDecoder();
  private readonly waiters = new Map<string, (frame: HostFrame) => void>();

  constructor(readonly id: string, private readonly script: AgentScript) {
    // Like a real agent on the other end of a pipe, it answers later, never inside the write.
    this.stdin.on('data', (chunk: Buffer) => setImmediate(() => this.onData(chunk)));
  }

  private onData(chunk: Buffer): void {
    {
      for (const item of this.decoder.push(chunk)) {
        if (item.kind !== 'frame') continue;
        const frame = HostFrameSchema.parse(item.value);
        this.received.push(frame);
        if (frame.type === 'ping') this.send({ type: 'pong', re: frame.id });
        else if (frame.type === 'execute') void this.script(this, frame);
        else if (frame.type === 'rpc_result') this.waiters.get(frame.re)?.(frame);
      }
    }
  }

  send(frame: Record<string, unknown>): string {
    const id = randomUUID();
    if (!this.stdout.writableEnded) this.stdout.write(encodeFrame({ v: WIRE_VERSION, id, ...frame }));
    return id;
  }

  /** Raw bytes on the protocol channel (to break it). */
  raw(bytes: string | Buffer): void {
    this.stdout.write(bytes);
  }

  print(re: string, text: string, name: 'stdout' | 'stderr' = 'stdout'): void {
    this.send({ type: 'stream', re, name, data: text });
  }

  finish(re: string, result: { status?: 'success' | 'error'; exitCode?: number; error?: { type: string; message: string } } = {}): void {
    this.send({ type: 'result', re, status: result.status ?? 'success', exitCode: result.exitCode ?? 0, ...(result.error ? { error: result.error } : {}) });
  }

  /** An RPC as sandbox code makes it; resolves with the daemon's rpc_result frame. */
  rpc(method: string, params: Record<string, unknown>): Promise<HostFrame> {
    const id = this.send({ type: 'rpc', method, params });
    return new Promise((resolve) => this.waiters.set(id, resolve));
  }

  /** The sandbox dies: its channel closes, and the runtime will report `death`. */
  die(death: SandboxDeath = this.death): void {
    this.death = death;
    this.stdout.end();
  }
}

export type AgentScript = (agent: FakeAgent, execute: Extract<HostFrame, { type: 'execute' }>) => void | Promise<void>;

/** Prints what the code is (so a test sees what ran) and succeeds. */
export const echoScript: AgentScript = (agent, execute) => {
  agent.print(execute.id, `ran: ${execute.code}\n`);
  agent.finish(execute.id);
};

export interface FakeRuntimeOptions {
  script?: AgentScript;
  /** Make start() fail (the runtime is down). */
  failStart?: () => Error | undefined;
  /** Leftovers of an earlier daemon that list() reports. */
  leftovers?: string[];
  /** How long an agent takes to say ready after its start (default: the next turn of the loop). */
  readyDelayMs?: number;
}

export class FakeRuntime implements SandboxRuntime {
  readonly kind = 'docker' as const;
  readonly agents = new Map<string, FakeAgent>();
  readonly removed: string[] = [];
  readonly slots = new Map<string, string>();
  private leftovers: string[];
  script: AgentScript;

  constructor(private readonly options: FakeRuntimeOptions = {}) {
    this.script = options.script ?? echoScript;
    this.leftovers = [...(options.leftovers ?? [])];
  }

  info(): RuntimeInfo {
    return { kind: 'docker', name: 'fake', version: '1', via: 'test', image: 'fake:image' };
  }

  async start(slot: string): Promise<StartedSandbox> {
    const failure = this.options.failStart?.();
    if (failure) throw failure;
    const id = `fake${this.agents.size + 1}`.padEnd(16, '0');
    const agent = new FakeAgent(id, (a, e) => this.script(a, e));
    this.agents.set(id, agent);
    this.slots.set(id, slot);
    const ready = (): void => void agent.send({ type: 'ready', python: '3.11.2', pid: 7, agent: 'fake' });
    if (this.options.readyDelayMs) setTimeout(ready, this.options.readyDelayMs);
    else setImmediate(ready);
    return { id, stdin: agent.stdin, stdout: agent.stdout, stderr: agent.stderr };
  }

  async remove(id: string): Promise<void> {
    this.removed.push(id);
    this.leftovers = this.leftovers.filter((l) => l !== id);
    const agent = this.agents.get(id);
    if (agent && !agent.stdout.writableEnded) agent.stdout.end();
  }

  async diagnose(id: string): Promise<SandboxDeath> {
    return this.agents.get(id)?.death ?? { kind: 'removed' };
  }

  async list(): Promise<SandboxRecord[]> {
    const live = [...this.agents.keys()].filter((id) => !this.removed.includes(id)).map((id) => ({ id, ours: true, slot: this.slots.get(id)! }));
    return [...live, ...this.leftovers.map((id) => ({ id, ours: false }))];
  }

  async close(): Promise<void> {}

  /** The agent of the sandbox that received the nth execute (1-based), once one has. */
  executed(): FakeAgent[] {
    return [...this.agents.values()].filter((a) => a.received.some((f) => f.type === 'execute'));
  }
}
