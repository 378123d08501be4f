import { randomBytes } from 'node:crypto';
import type { RunSession, SessionInfo, SessionsStatus } from '@mcp-code-mode/protocol';
import type { Logger } from 'pino';
import { ShuttingDownError } from '../pool/run-gate.js';

/** What a session needs of its sandbox: an id, and word when its container goes away. */
export interface SessionSandbox {
  readonly id: string;
  readonly closed: boolean;
  once(event: 'closed', listener: () => void): unknown;
  off(event: 'closed', listener: () => void): unknown;
}

/** The part of SandboxPool that sessions use: a sandbox taken for good, outliving any one run. */
export interface SessionPool<S extends SessionSandbox> {
  take(signal?: AbortSignal): Promise<S>;
  retire(sandbox: S): Promise<void>;
  /** Sandboxes that runs and sessions may hold at once. */
  readonly capacity: number;
}

export interface SessionManagerOptions<S extends SessionSandbox> {
  pool: SessionPool<S>;
  /** MCP_BRIDGE_MAX_SESSIONS; 0 turns sessions off. */
  maxSessions: number;
  /** MCP_BRIDGE_SESSION_TTL, in seconds of idleness. */
  idleTtlSec: number;
  log: Logger;
  now?: () => number;
  newId?: () => string;
}

/** A session cannot start; the message says why and what to do. */
export class SessionLimitError extends Error {
  override name = 'SessionLimitError';
}

/** The session named by a run no longer exists (or never did); `reason` says which. */
export class SessionGoneError extends Error {
  override name = 'SessionGoneError';
  constructor(readonly id: string, readonly reason: string) {
    super(`${id} is unknown or has expired: ${reason}. Start a new one with session: "new" (its variables and files are gone)`);
  }
}

/** Ended sessions remembered so that a late run learns why (bounded: ids are never reused). */
const TOMBSTONES = 1024;
const ID_PREFIX = 'ses_';
const SANDBOX_EXITED = 'its sandbox exited (out of memory, or the code ended the interpreter)';

/** 144 random bits: the id is the only key to a session, so it must not be guessable. */
export function newSessionId(): string {
  return ID_PREFIX + randomBytes(18).toString('base64url');
}

/** A shortened id for places without authentication (the health endpoint's /status, logs). */
export function idPrefix(id: string): string {
  return `${id.slice(0, ID_PREFIX.length + 6)}…`;
}

/** One run's hold on its session: leave it when the run is over, with the reason the session ends, if it does. */
export interface SessionTurn<S extends SessionSandbox> {
  readonly sandbox: S;
  leave(endReason?: string): Promise<void>;
}

/** An open session: one container held for good, its allowlist, its queue and its idle clock. */
export class Session<S extends SessionSandbox> {
  readonly createdAt: number;
  lastUsedAt: number;
  runs = 0;
  /** Runs going on or waiting for their turn. */
  pending = 0;
  /** The end of the last queued run: the next one starts after it. */
  tail: Promise<void> = Promise.resolve();
  timer: NodeJS.Timeout | undefined;

  constructor(readonly id: string, readonly servers: readonly string[], readonly sandbox: S, now: number, readonly onClosed: () => void) {
    this.createdAt = now;
    this.lastUsedAt = now;
  }
}

/**
 * Sessions: containers leased from the pool for good, each keeping one Python namespace and one
 * /workspace across runs. Runs of a session go one at a time, in order; sessions run in parallel.
 * A session ends when idle past its TTL, when its container dies, when a run in it does not end
 * normally (the manager's caller decides), on request, or at shutdown; the container is removed.
 */
export class SessionManager<S extends SessionSandbox> {
  private readonly open = new Map<string, Session<S>>();
  private readonly ended = new Map<string, string>();
  private opening = 0;
  private closing = false;
  private readonly now: () => number;
  private readonly newId: () => string;

  constructor(private readonly options: SessionManagerOptions<S>) {
    this.now = options.now ?? Date.now;
    this.newId = options.newId ?? newSessionId;
  }

  get idleTtlSec(): number {
    return this.options.idleTtlSec;
  }

  /** Sessions that may be open at once: MAX_SESSIONS, but one run slot is always left to runs without a session. */
  get maxOpen(): number {
    return Math.max(0, Math.min(this.options.maxSessions, this.options.pool.capacity - 1));
  }

  private limitMessage(): string {
    const { maxSessions, pool } = this.options;
    if (maxSessions === 0) return 'sessions are turned off (MCP_BRIDGE_MAX_SESSIONS=0); run without session';
    const count = this.open.size + this.opening;
    if (this.maxOpen < maxSessions && count >= this.maxOpen) {
      return `${count} sessions are open and no more can start: ${pool.capacity} sandboxes may run at once (MCP_BRIDGE_POOL_MAX less MCP_BRIDGE_POOL_SIZE) and one is kept for runs without a session; end a session (mcp-code-mode sessions end ID), let one expire, or run without session`;
    }
    return `${count} sessions are open, the most MCP_BRIDGE_MAX_SESSIONS (${maxSessions}) allows; end one (mcp-code-mode sessions end ID), let one expire (after ${this.options.idleTtlSec} s idle), or run without session`;
  }

  /** Starts a session on a container of its own; throws SessionLimitError when none may start. */
  async start(servers: readonly string[], signal?: AbortSignal): Promise<Session<S>> {
    if (this.closing) throw new ShuttingDownError();
    if (this.open.size + this.opening >= this.maxOpen) throw new SessionLimitError(this.limitMessage());
    this.opening++;
    let sandbox: S;
    try {
      sandbox = await this.options.pool.take(signal);
    } finally {
      this.opening--;
    }
    const id = this.newId();
    // While a run is going on, the run reports the death (with the out-of-memory check) and ends the session.
    const onClosed = (): void => {
      if (session.pending === 0) void this.end(id, SANDBOX_EXITED);
    };
    const session: Session<S> = new Session(id, [...servers], sandbox, this.now(), onClosed);
    sandbox.once('closed', session.onClosed);
    this.open.set(id, session);
    this.startIdleClock(session);
    this.options.log.info({ session: idPrefix(id), container: sandbox.id.slice(0, 12), servers }, 'session started');
    if (sandbox.closed) session.onClosed();
    return session;
  }

  /** The open session of this id; throws SessionGoneError saying why there is none. */
  get(id: string): Session<S> {
    const session = this.open.get(id);
    if (session) return session;
    throw new SessionGoneError(id, this.ended.get(id) ?? 'no session has this id (it never existed, or it ended before the daemon last restarted)');
  }

  /**
   * Waits for the runs queued before this one, then holds the session for one run until the turn is
   * left. The idle clock stops while runs are queued or going on. Throws SessionGoneError when the
   * session ends before its turn comes.
   */
  async turn(session: Session<S>): Promise<SessionTurn<S>> {
    session.pending++;
    clearTimeout(session.timer);
    const previous = session.tail;
    let next!: () => void;
    session.tail = new Promise<void>((resolve) => (next = resolve));
    await previous;
    const done = (): void => {
      session.pending--;
      if (session.pending === 0 && this.open.get(session.id) === session) this.startIdleClock(session);
      next();
    };
    if (this.open.get(session.id) !== session) {
      done();
      throw new SessionGoneError(session.id, this.ended.get(session.id) ?? 'it ended');
    }
    let left: Promise<void> | undefined;
    return {
      sandbox: session.sandbox,
      leave: (endReason) =>
        (left ??= (async () => {
          try {
            session.runs++;
            session.lastUsedAt = this.now();
            if (endReason !== undefined) await this.end(session.id, endReason);
            else if (session.sandbox.closed) await this.end(session.id, SANDBOX_EXITED);
          } finally {
            done();
          }
        })()),
    };
  }

  private startIdleClock(session: Session<S>): void {
    clearTimeout(session.timer);
    const ttl = this.options.idleTtlSec;
    session.timer = setTimeout(() => void this.end(session.id, `it expired after ${ttl} s without a run (MCP_BRIDGE_SESSION_TTL)`), ttl * 1000);
    // An idle session must not keep the daemon alive.
    session.timer.unref();
  }

  /** What a run result says about its session, after the run. */
  describe(id: string): RunSession {
    const session = this.open.get(id);
    if (!session) return { id, state: 'ended', reason: this.ended.get(id) ?? 'it ended' };
    return { id, state: 'open', expiresAt: new Date(session.lastUsedAt + this.options.idleTtlSec * 1000).toISOString(), idleTtlSec: this.options.idleTtlSec };
  }

  /** The reason a session ended, if it has. */
  endReason(id: string): string | undefined {
    return this.ended.get(id);
  }

  /**
   * Ends a session and removes its container; the first reason given is the one remembered.
   * Returns false when no open session has this id.
   */
  async end(id: string, reason: string): Promise<boolean> {
    const session = this.open.get(id);
    if (!session) return false;
    this.open.delete(id);
    this.ended.set(id, reason);
    if (this.ended.size > TOMBSTONES) this.ended.delete(this.ended.keys().next().value!);
    clearTimeout(session.timer);
    session.sandbox.off('closed', session.onClosed);
    this.options.log.info({ session: idPrefix(id), runs: session.runs, reason }, 'session ended');
    await this.options.pool.retire(session.sandbox).catch((err) => this.options.log.warn({ err }, 'removing a session container failed'));
    return true;
  }

  /** Every open session, full ids included: for the control socket only. */
  list(): SessionInfo[] {
    return [...this.open.values()].map((s) => ({
      id: s.id,
      servers: [...s.servers],
      createdAt: new Date(s.createdAt).toISOString(),
      lastUsedAt: new Date(s.lastUsedAt).toISOString(),
      ...(s.pending === 0 ? { expiresAt: new Date(s.lastUsedAt + this.options.idleTtlSec * 1000).toISOString() } : {}),
      runs: s.runs,
      busy: s.pending > 0,
      container: s.sandbox.id.slice(0, 12),
    }));
  }

  /** Sessions for /status, with ids cut short (see SessionsStatusSchema). */
  status(): SessionsStatus {
    return {
      open: this.open.size,
      max: this.maxOpen,
      idleTtlSec: this.options.idleTtlSec,
      list: this.list().map((s) => ({ idPrefix: idPrefix(s.id), servers: s.servers, runs: s.runs, busy: s.busy, ...(s.expiresAt ? { expiresAt: s.expiresAt } : {}) })),
    };
  }

  /** Ends every session (shutdown); their containers are removed. */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.allSettled([...this.open.keys()].map((id) => this.end(id, 'the daemon stopped')));
  }
}
