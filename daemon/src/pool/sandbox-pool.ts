import { randomUUID } from 'node:crypto';
import type { PoolStatus } from '@mcp-code-mode/protocol';
import type { Pool } from 'generic-pool';
import type { Logger } from 'pino';
import { RuntimeUnavailableError, type SandboxRecord, type SandboxRuntime } from '../runtimes/runtime.js';
import { Sandbox } from '../sandbox/sandbox.js';
import { createEvictingPool, resizePool } from './evicting-pool.js';
import { RunGate, ShuttingDownError } from './run-gate.js';

/** How long a short run may keep the engine to itself before its replacement starts warming. */
const REFILL_DELAY_MS = 250;
/** How long no run may have waited for a sandbox before the grown warm target steps down by one. */
const SHRINK_AFTER_MS = 10_000;

export interface PoolOptions {
  /** Starts, removes and lists the sandboxes; the pool never knows which runtime it is. */
  runtime: SandboxRuntime;
  /** Warm containers kept ready. */
  size: number;
  /** Containers at once, warm and running together. */
  max: number;
  /** Runs that may wait for a container before "busy". */
  queueMax: number;
  log: Logger;
  readyTimeoutMs?: number;
  pingTimeoutMs?: number;
  /** A sandbox that said ready (or answered a ping) this recently is used without a ping. */
  freshMs?: number;
  /** How often idle sandboxes are checked for a dead container (killed from outside, engine restarted). */
  evictMs?: number;
  /** How often the runtime is asked for sandboxes of this daemon that no sandbox object owns any more. */
  janitorMs?: number;
  /**
   * With no run (and no wake()) for this long, the pool keeps no warm sandbox at all, so that an
   * engine VM (Docker Desktop, a Podman machine) can sleep; the next run or wake() warms it again.
   * 0 or absent: never (MCP_BRIDGE_RUNTIME_IDLE_TIMEOUT).
   */
  idleTimeoutMs?: number;
  /** A warm target grown by waiting runs steps down by one after this long with no run waiting. */
  shrinkMs?: number;
  /** How often the target and the idle timeout are looked at. */
  tickMs?: number;
}

/**
 * A run's hold on one sandbox, from the pool or from a session: take it, run on it, release it with
 * what the outcome means for it. Releasing twice is harmless.
 */
export interface Lease {
  readonly sandbox: Sandbox;
  /**
   * `atOnce`: the sandbox may still run the code, so it is gone before this resolves. Otherwise a
   * pool sandbox is removed just after the caller's answer is written (setImmediate), so not even the
   * removal's set-up is on the caller's clock.
   */
  release(atOnce: boolean): Promise<void>;
}

/**
 * Warm, single-use sandboxes. generic-pool keeps a target of containers started and ready; a run
 * takes one out of the pool for good (so the pool warms a replacement at once), and destroys it
 * when done. A RunGate bounds the runs so that warm plus running containers never exceed `max`.
 *
 * The target follows demand: it starts at `size`, grows by one each time a run has to wait for a
 * sandbox (up to `max`, less the sandboxes runs hold), and steps back towards `size` once runs no
 * longer wait. After `idleTimeoutMs` with no run it drops to zero (the pool sleeps) until the next
 * run or wake(). generic-pool starts the missing sandboxes all at once, so creation is as parallel
 * as the runtime takes it.
 */
export class SandboxPool {
  private readonly pool: Pool<Sandbox>;
  private readonly gate: RunGate;
  private readonly leased = new Set<Sandbox>();
  private readonly retiring = new Set<Sandbox>();
  /** Leased sandboxes whose replacement is not warming yet: calling the function starts it. */
  private readonly replacements = new Map<Sandbox, () => void>();
  private created = 0;
  private failedStarts = 0;
  private consecutiveFailures = 0;
  private lastStartError?: string;
  private closing = false;
  /** Containers this pool answers for: created, and not yet handed to removal. */
  private readonly owned = new Set<string>();
  /** Slot labels of containers being created right now. */
  private readonly creating = new Set<string>();
  private readonly janitor: NodeJS.Timeout | undefined;
  private sweeping = false;
  /** Warm sandboxes wanted while awake, between `size` and `max`. */
  private target: number;
  private sleeping = false;
  /** Last lease, release or wake(): the idle timeout counts from here. */
  private lastActivity = Date.now();
  /** Last time a run found no warm sandbox: the target shrinks only when this is old. */
  private lastWait = 0;
  private lastShrink = Date.now();
  private readonly ticker: NodeJS.Timeout;
  /** Settles with the outcome of the first sandbox creation: see firstStart(). */
  private readonly first: { promise: Promise<void>; resolve: () => void; reject: (err: Error) => void };
  /** Settles once the first sandbox's process is launched (or its start failed): see firstLaunch(). */
  private readonly launched: { promise: Promise<void>; resolve: () => void };

  constructor(private readonly options: PoolOptions) {
    let resolve!: () => void;
    let reject!: (err: Error) => void;
    const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
    promise.catch(() => undefined); // nobody may ask
    this.first = { promise, resolve, reject };
    let launchedResolve!: () => void;
    this.launched = { promise: new Promise<void>((res) => (launchedResolve = res)), resolve: launchedResolve };
    // The first sandbox starts alone: the daemon says ready once it is warm, and on a small machine
    // the others starting beside it would only slow it down. The rest follow it at once.
    const rest = (): void => this.applyTarget();
    promise.then(rest, rest);
    const warm = Math.max(options.size, 0);
    this.target = warm;
    this.gate = new RunGate(Math.max(1, options.max - warm), options.queueMax);
    this.pool = createEvictingPool<Sandbox>(
      {
        create: () => this.createSandbox(),
        destroy: async (sandbox) => {
          // A leased sandbox belongs to its run, which removes it when the run ends.
          if (!this.leased.has(sandbox) && !this.retiring.has(sandbox)) await this.remove(sandbox);
        },
        // An open attach stream proves the container alive; a sandbox that sat idle a while must
        // also answer a ping, which costs one round trip through the engine (about 1 ms).
        validate: async (sandbox) =>
          !sandbox.closed && (Date.now() - sandbox.readyAt < (options.freshMs ?? 30_000) || (await sandbox.ping(options.pingTimeoutMs ?? 2000))),
      },
      {
        min: Math.min(warm, 1),
        max: Math.max(1, warm),
        testOnBorrow: true,
        autostart: true,
        // Nothing idles out; each evictor pass removes the idle sandboxes whose container died,
        // and the pool warms their replacements at once.
        evictionRunIntervalMillis: options.evictMs ?? 1000,
        numTestsPerEvictionRun: Math.max(3, options.max),
        idleTimeoutMillis: Number.MAX_SAFE_INTEGER,
      },
      (sandbox) => sandbox.closed,
    );
    this.pool.on('factoryCreateError', (err) => this.options.log.warn({ err }, 'warming a sandbox failed'));
    this.janitor = setInterval(() => void this.sweep(), options.janitorMs ?? 5000);
    this.janitor.unref();
    this.ticker = setInterval(() => this.tick(), options.tickMs ?? 1000);
    this.ticker.unref();
  }

  /** Sandboxes held by runs and sessions or being removed: warm ones fit in what `max` leaves. */
  private get held(): number {
    return this.leased.size + this.retiring.size;
  }

  /** Until the first sandbox is warm (or failed to start), only it is started. */
  private get warmingFirst(): boolean {
    return this.created === 0 && this.failedStarts === 0;
  }

  /** Tells generic-pool how many warm sandboxes to keep now. */
  private applyTarget(): void {
    if (this.closing) return;
    const wanted = this.warmingFirst ? Math.min(this.target, 1) : this.target;
    const warm = this.sleeping ? 0 : Math.max(0, Math.min(wanted, this.options.max - this.held));
    // A max of at least 1 lets a run that comes while the pool sleeps (or with size 0) get one.
    resizePool(this.pool, warm, Math.max(1, warm));
  }

  private tick(): void {
    if (this.closing) return;
    const now = Date.now();
    const shrinkMs = this.options.shrinkMs ?? SHRINK_AFTER_MS;
    if (this.target > this.options.size && now - this.lastWait >= shrinkMs && now - this.lastShrink >= shrinkMs) {
      this.target--;
      this.lastShrink = now;
      this.options.log.debug({ target: this.target }, 'warm target shrinks');
    }
    const idleMs = this.options.idleTimeoutMs ?? 0;
    const idle = this.held === 0 && this.gate.queued === 0 && this.pool.pending === 0;
    if (idleMs > 0 && !this.sleeping && idle && now - this.lastActivity >= idleMs) {
      this.sleeping = true;
      this.target = this.options.size;
      this.options.log.info({ idleSec: idleMs / 1000 }, 'no run for the idle timeout: the pool sleeps (no warm sandbox) until the next run');
    }
    this.applyTarget();
  }

  /**
   * Someone will probably run soon (a shim connected, a control request came): a sleeping pool
   * warms again, and the idle timeout starts over.
   */
  wake(): void {
    this.lastActivity = Date.now();
    if (!this.sleeping || this.closing) return;
    this.sleeping = false;
    this.options.log.info('the pool wakes: warming sandboxes');
    this.applyTarget();
  }

  /** Hands a sandbox to removal; from then on the janitor retries it if removal fails. */
  private remove(sandbox: Sandbox): Promise<void> {
    this.owned.delete(sandbox.id);
    return sandbox.destroy();
  }

  /**
   * Removes this daemon's containers that no sandbox owns: a removal that failed (the engine was
   * down or restarting), a container whose creation answer was lost. A container whose creation is
   * still under way is recognised by its slot label and left alone. Containers of an earlier daemon
   * on the same state directory go too: the start-up sweep misses one whose creation the engine
   * finished after that daemon was killed (only one daemon holds a state directory at a time).
   */
  private async sweep(): Promise<void> {
    if (this.sweeping || this.closing) return;
    this.sweeping = true;
    try {
      const rows = await this.options.runtime.list();
      const strays = rows.filter((row) => !row.ours || (!this.owned.has(row.id) && !this.creating.has(row.slot ?? '')));
      await removeSandboxes(this.options.runtime, strays, this.options.log, 'the next sweep tries again');
      if (strays.length > 0) this.options.log.info({ count: strays.length }, 'removed sandboxes that no run owns any more');
    } catch (err) {
      // The runtime may be down; the next pass tries again.
      this.options.log.debug({ err }, 'sandbox sweep failed');
    } finally {
      this.sweeping = false;
    }
  }

  private async createSandbox(): Promise<Sandbox> {
    const log = this.options.log;
    if (this.consecutiveFailures > 0) {
      // Back off so a broken engine or image is not hammered by the pool's retries. Waiting before
      // the attempt (not after the failure) keeps the error a waiting run gets fresh: an engine that
      // came back during the wait is tried again, not reported down.
      const delay = Math.min(5000, 100 * 2 ** Math.min(this.consecutiveFailures, 6));
      await new Promise((resolve) => setTimeout(resolve, delay).unref());
    }
    const slot = randomUUID();
    this.creating.add(slot);
    try {
      const { runtime } = this.options;
      const started = await runtime.start(slot).finally(() => this.launched.resolve());
      const sandbox = new Sandbox(started, runtime, log.child({ sandbox: started.id.slice(0, 12) }));
      this.owned.add(sandbox.id);
      try {
        await sandbox.waitReady(this.options.readyTimeoutMs ?? 30_000);
      } catch (err) {
        await this.remove(sandbox).catch(() => undefined);
        const image = this.options.runtime.info().image;
        throw new RuntimeUnavailableError(`sandbox agent did not start in ${image}: ${(err as Error).message}; check that it has python3 >= 3.9`, { cause: err });
      }
      this.created++;
      this.consecutiveFailures = 0;
      this.first.resolve();
      log.debug({ sandbox: sandbox.id.slice(0, 12) }, 'sandbox warm');
      return sandbox;
    } catch (err) {
      this.failedStarts++;
      this.consecutiveFailures++;
      this.lastStartError = (err as Error).message;
      this.first.reject(err as Error);
      throw err;
    } finally {
      this.creating.delete(slot);
    }
  }

  /**
   * Resolves when the first sandbox this pool created is warm; rejects with the error of the first
   * creation that failed, if that came first. With a warm size of 0 nothing is created until a run.
   */
  firstStart(): Promise<void> {
    return this.first.promise;
  }

  /**
   * Resolves when the first sandbox's process has been launched (its agent still starting), or its
   * start failed: the daemon sets up the rest of itself while that sandbox's Python starts on the
   * other core, instead of before it launches.
   */
  firstLaunch(): Promise<void> {
    return this.launched.promise;
  }

  /**
   * A ready sandbox for one run, after waiting in the bounded queue if every sandbox is busy.
   * Throws BusyError when the queue is full, RuntimeUnavailableError when sandboxes cannot be started.
   */
  async lease(signal?: AbortSignal): Promise<Lease> {
    const sandbox = await this.take(signal);
    let released: Promise<void> | undefined;
    const retire = (): Promise<void> => this.retire(sandbox).catch((err) => this.options.log.warn({ err }, 'removing a sandbox failed'));
    return {
      sandbox,
      release: (atOnce) => {
        if (released) return released;
        if (atOnce) return (released = retire());
        released = Promise.resolve();
        setImmediate(() => void retire());
        return released;
      },
    };
  }

  /** A ready sandbox held for good by its taker (a session), who gives it back with retire(). */
  async take(signal?: AbortSignal): Promise<Sandbox> {
    if (this.closing) throw new ShuttingDownError();
    const woke = this.sleeping;
    this.wake();
    await this.gate.enter(signal);
    try {
      // A pool that just woke has nothing warm yet: that says nothing about demand.
      if (this.pool.available === 0 && !woke) {
        // This run waits for a sandbox to start: keep one more warm from now on.
        this.lastWait = Date.now();
        if (this.target < this.options.max) this.target++;
        this.applyTarget();
      }
      const sandbox = await this.acquire(signal);
      this.leased.add(sandbox);
      this.lastActivity = Date.now();
      this.scheduleReplacement(sandbox);
      this.applyTarget();
      return sandbox;
    } catch (err) {
      this.gate.leave();
      throw err;
    }
  }

  /**
   * The leased sandbox leaves the pool for good, so that generic-pool warms a replacement. Warming
   * costs the engine a few hundred milliseconds of CPU, which would slow the run that just started
   * (its frames go through the same engine). So while other warm sandboxes remain, the replacement
   * waits until the run ends or REFILL_DELAY_MS pass; with none left, it starts at once.
   */
  private scheduleReplacement(sandbox: Sandbox): void {
    let done = false;
    const replace = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      this.replacements.delete(sandbox);
      void this.pool.destroy(sandbox).catch(() => undefined);
    };
    const timer = setTimeout(replace, this.pool.available > 0 ? REFILL_DELAY_MS : 0);
    timer.unref();
    this.replacements.set(sandbox, replace);
  }

  private acquire(signal?: AbortSignal): Promise<Sandbox> {
    return new Promise<Sandbox>((resolve, reject) => {
      let settled = false;
      const finish = (err?: Error, sandbox?: Sandbox): void => {
        if (settled) return;
        settled = true;
        this.pool.off('factoryCreateError', onCreateError);
        signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve(sandbox!);
      };
      // When no container can be started, fail this run with the reason instead of waiting forever.
      const onCreateError = (err: Error): void => {
        if (this.pool.available === 0 && this.consecutiveFailures >= 2) finish(err);
      };
      const onAbort = (): void => finish(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
      this.pool.on('factoryCreateError', onCreateError);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pool.acquire().then(
        (sandbox) => {
          if (settled) void this.pool.release(sandbox).catch(() => undefined);
          else finish(undefined, sandbox);
        },
        (err: Error) => finish(err),
      );
    });
  }

  /**
   * How many sandboxes may be held at once by runs and sessions together (`max` less the warm
   * ones). A session holds one of these for its whole life.
   */
  get capacity(): number {
    return this.gate.limit;
  }

  /** Ends a hold on a sandbox: it is removed, and the gate lets the next run in. */
  async retire(sandbox: Sandbox): Promise<void> {
    this.replacements.get(sandbox)?.();
    this.leased.delete(sandbox);
    this.retiring.add(sandbox);
    try {
      await this.remove(sandbox);
    } finally {
      this.retiring.delete(sandbox);
      this.lastActivity = Date.now();
      // Only now: warm plus running plus being-removed containers stay within `max`.
      this.gate.leave();
      this.applyTarget();
    }
  }

  stats(): PoolStatus {
    return {
      warm: this.pool.available,
      starting: Math.max(0, this.pool.size - this.pool.available - this.pool.borrowed),
      busy: this.leased.size,
      removing: this.retiring.size,
      queued: this.gate.queued,
      target: this.sleeping ? 0 : this.target,
      sleeping: this.sleeping,
      created: this.created,
      failedStarts: this.failedStarts,
      ...(this.lastStartError ? { lastStartError: this.lastStartError } : {}),
    };
  }

  /** From now on every lease is refused with ShuttingDownError (the first step of a shutdown). */
  stopLeasing(): void {
    this.closing = true;
  }

  /** Stops warming, refuses waiters, removes every sandbox of this pool, leased ones included. */
  async close(): Promise<void> {
    this.stopLeasing();
    if (this.janitor) clearInterval(this.janitor);
    clearInterval(this.ticker);
    this.gate.rejectAll(new ShuttingDownError());
    await this.pool.drain();
    await this.pool.clear();
    await Promise.allSettled([...this.leased, ...this.retiring].map((sandbox) => sandbox.destroy()));
  }
}

/** Removes every sandbox of this state directory that an earlier daemon left (at start-up). */
export async function removeLeftovers(runtime: SandboxRuntime, log: Logger): Promise<number> {
  const rows = await runtime.list();
  const leftovers = rows.filter((row) => !row.ours);
  await removeSandboxes(runtime, leftovers, log, 'the periodic sweep tries again');
  if (leftovers.length > 0) log.info({ count: leftovers.length }, 'removed sandboxes left by an earlier daemon');
  return leftovers.length;
}

/** Removes these sandboxes side by side; each one that fails is logged with what happens to it next. */
export async function removeSandboxes(runtime: SandboxRuntime, rows: readonly SandboxRecord[], log: Logger, next: string): Promise<void> {
  const settled = await Promise.allSettled(rows.map((row) => runtime.remove(row.id)));
  settled.forEach((s, i) => {
    if (s.status === 'rejected') log.warn({ err: s.reason, sandbox: rows[i]!.id }, `removing a sandbox failed; ${next}`);
  });
}
