// A BwrapRuntime on the real machine, and a minimal host side of the framed protocol to drive its
// agent directly (the pool and the daemon are wired onto the runtime interface elsewhere).
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentFrameSchema, WIRE_VERSION, type AgentFrame, type ResultFrame } from '@mcp-code-mode/protocol';
import { pino } from 'pino';
import { bwrapUnavailable } from './engines.ts';
import { buildAgentBundle } from '../../daemon/src/agent/agent-bundle.ts';
import { bwrapAgentCommand, bwrapPrecompile } from '../../daemon/src/runtimes/bwrap/agent-command.ts';
import { BwrapRuntime, type BwrapLimits, type BwrapRuntimeOptions } from '../../daemon/src/runtimes/bwrap/bwrap-runtime.ts';
import { probeBwrap, type BwrapProbeOptions } from '../../daemon/src/runtimes/bwrap/probe.ts';
import { ensureRootfs } from '../../daemon/src/runtimes/bwrap/rootfs.ts';
import type { StartedSandbox } from '../../daemon/src/runtimes/runtime.ts';
import { encodeFrame, FrameDecoder } from '../../daemon/src/wire/frames.ts';
import { BWRAP_TEST_CACHE } from './engines.ts';

export const IMAGE = 'mcp-code-mode/sandbox:local';
/** Shared by the bwrap test files: the unpacked image is made once (about 3 s from the engine), where sandbox uids may pass. */
export const ROOTFS_CACHE = BWRAP_TEST_CACHE;

/** Why the bwrap tests cannot run here, or undefined (the same conditions as bwrap as a test engine). */
export const bwrapSkipReason = bwrapUnavailable;

export const TEST_LIMITS: BwrapLimits = { memoryBytes: 256 * 1024 * 1024, pids: 64, tmpfsBytes: 16 * 1024 * 1024, nofile: 1024, nproc: 64 };

export interface TestRuntime {
  runtime: BwrapRuntime;
  stateDir: string;
  daemon: string;
}

export async function openTestRuntime(
  limits: Partial<BwrapLimits> = {},
  probe: Partial<BwrapProbeOptions> = {},
  stateDir = mkdtempSync(join(tmpdir(), 'mcm-bwrap-')),
  rootfsDir?: string,
  agentCommand?: string[],
  precompile?: BwrapRuntimeOptions['precompile'],
): Promise<TestRuntime> {
  const rootfs = rootfsDir ? { dir: rootfsDir } : await ensureRootfs({ cacheDir: ROOTFS_CACHE, image: IMAGE });
  const bundle = await buildAgentBundle();
  const merged = { ...TEST_LIMITS, ...limits };
  const host = await probeBwrap({ stateDir, needCpu: merged.cpus !== undefined, ...probe });
  const daemon = randomUUID();
  const runtime = new BwrapRuntime(
    {
      rootfs: rootfs.dir,
      image: IMAGE,
      agentCommand: agentCommand ?? (await bwrapAgentCommand(bundle.command)),
      precompile: precompile ?? (await bwrapPrecompile(bundle.command)),
      limits: merged,
      stateDir,
      owner: 'test-owner',
      daemon,
      log: pino({ level: process.env.TEST_LOG ?? 'silent' }),
    },
    host,
  );
  return { runtime, stateDir, daemon };
}

/** The host side of one sandbox's channel. */
export class Agent {
  private readonly decoder = new FrameDecoder();
  private readonly frames: AgentFrame[] = [];
  private waiters: (() => void)[] = [];
  closed = false;
  stderr = '';

  constructor(readonly sandbox: StartedSandbox) {
    sandbox.stdout.on('data', (chunk: Buffer) => {
      for (const item of this.decoder.push(chunk)) {
        if (item.kind === 'frame') this.frames.push(AgentFrameSchema.parse(item.value));
      }
      this.wake();
    });
    sandbox.stdout.on('close', () => {
      this.closed = true;
      this.wake();
    });
    sandbox.stderr.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    sandbox.stdin.on('error', () => undefined);
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  send(frame: Record<string, unknown>): string {
    const id = randomUUID();
    this.sandbox.stdin.write(encodeFrame({ v: WIRE_VERSION, id, ...frame }));
    return id;
  }

  /** The first frame (taken from the queue) that `match` accepts; rejects on close or timeout. */
  async next<T extends AgentFrame>(match: (f: AgentFrame) => f is T, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.frames.findIndex(match);
      if (index !== -1) return this.frames.splice(index, 1)[0] as T;
      if (this.closed) throw new Error(`the sandbox channel closed (agent stderr: ${this.stderr.trim().slice(-800)})`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching frame within ${timeoutMs} ms (stderr: ${this.stderr.trim().slice(-800)})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  ready(timeoutMs = 20_000) {
    return this.next((f): f is Extract<AgentFrame, { type: 'ready' }> => f.type === 'ready', timeoutMs);
  }

  async ping(timeoutMs = 5000): Promise<void> {
    const id = this.send({ type: 'ping' });
    await this.next((f): f is AgentFrame => f.type === 'pong' && f.re === id, timeoutMs);
  }

  /** Runs code; resolves with its stdout, stderr and result. */
  async run(code: string, timeoutMs = 30_000): Promise<{ stdout: string; stderr: string; result: ResultFrame }> {
    const id = this.send({ type: 'execute', code, servers: [], discovered: [], maxOutputBytes: 1024 * 1024 });
    const result = await this.next((f): f is ResultFrame => f.type === 'result' && f.re === id, timeoutMs);
    const streams = this.frames.filter((f) => f.type === 'stream' && f.re === id);
    this.frames.splice(0, this.frames.length, ...this.frames.filter((f) => !streams.includes(f)));
    const text = (name: string) => streams.filter((f) => f.type === 'stream' && f.name === name).map((f) => (f.type === 'stream' ? f.data : '')).join('');
    return { stdout: text('stdout'), stderr: text('stderr'), result };
  }

  /** Sends an execute and returns at once (for code that sleeps or dies). */
  start(code: string): string {
    return this.send({ type: 'execute', code, servers: [], discovered: [], maxOutputBytes: 1024 * 1024 });
  }

  async untilClosed(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('the sandbox channel did not close');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/** A started sandbox whose agent said ready. */
export async function startAgent(runtime: BwrapRuntime, slot: string = randomUUID()): Promise<Agent> {
  const agent = new Agent(await runtime.start(slot));
  try {
    await agent.ready();
  } catch (err) {
    await runtime.remove(agent.sandbox.id);
    throw err;
  }
  return agent;
}
