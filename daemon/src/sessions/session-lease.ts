import { NEW_SESSION, type RunSession } from '@mcp-code-mode/protocol';
import type { Sandbox } from '../sandbox/sandbox.js';
import { SessionGoneError, SessionLimitError, type Session, type SessionManager } from './session-manager.js';

/** A run in a session cannot go ahead; the message says why and what to do (a validation error of `field`). */
export class SessionRefusal extends Error {
  override name = 'SessionRefusal';
  constructor(readonly field: 'session' | 'servers', message: string) {
    super(message);
  }
}

/** Which session a run names, and the servers it will use (the session's own when the run names none). */
export interface SessionTarget {
  /** Absent for `"new"`: the session starts once the servers are known to exist. */
  session?: Session<Sandbox>;
  servers: string[];
}

/** A run's hold on its session's sandbox; released with the reason the session ends, if it does. */
export interface SessionLease {
  readonly sandbox: Sandbox;
  readonly id: string;
  release(endReason?: string): Promise<void>;
  /** The session as the run's result shows it, once released. */
  describe(): RunSession;
}

function refused(err: unknown): never {
  if (err instanceof SessionGoneError || err instanceof SessionLimitError) throw new SessionRefusal('session', err.message);
  throw err;
}

/**
 * Checks the session id and the run's servers against the session's allowlist (fixed when it
 * started): a run in a session cannot widen it. Throws SessionRefusal saying what to do.
 */
export function resolveSession(sessions: SessionManager<Sandbox>, ref: string, requested: string[]): SessionTarget {
  if (ref === NEW_SESSION) return { servers: requested };
  let session: Session<Sandbox>;
  try {
    session = sessions.get(ref);
  } catch (err) {
    refused(err);
  }
  const outside = requested.filter((name) => !session.servers.includes(name));
  if (outside.length > 0) {
    const fixed = session.servers.length > 0 ? session.servers.join(', ') : 'none';
    throw new SessionRefusal(
      'servers',
      `this session was started with servers [${fixed}] and a run in it cannot add ${outside.join(', ')}; start a new session with session: "new" and the servers it needs`,
    );
  }
  return { session, servers: requested.length > 0 ? requested : [...session.servers] };
}

/** Starts the session for `"new"`, then waits for the session's earlier runs: the run's lease. */
export async function leaseSession(sessions: SessionManager<Sandbox>, target: SessionTarget, signal: AbortSignal): Promise<SessionLease> {
  const session = target.session ?? (await sessions.start(target.servers, signal).catch(refused));
  const turn = await sessions.turn(session).catch(refused);
  return {
    sandbox: turn.sandbox,
    id: session.id,
    release: (endReason) => turn.leave(endReason),
    describe: () => sessions.describe(session.id),
  };
}
