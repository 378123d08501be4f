import type { DaemonErrorType } from '@mcp-code-mode/protocol';

/** What an outcome means for the sandbox that ran it, and for its session. */
export interface Fate {
  /**
   * The sandbox may still be running the code, or is gone: it is removed before the caller hears of
   * the result (a stateless run's sandbox is otherwise removed just after the answer is written).
   */
  retireAtOnce: boolean;
  /** Why a session whose run ended so is over; absent: the session goes on. */
  endsSession?: (timeoutSec: number) => string;
}

/** The one table of outcomes, keyed by the daemon's own error types. */
export const FATES: Record<DaemonErrorType, Fate> = {
  Timeout: { retireAtOnce: true, endsSession: (s) => `a run in it went past its ${s} s timeout, so its sandbox was killed` },
  Cancelled: { retireAtOnce: true, endsSession: () => 'a run in it was cancelled, so its sandbox was killed' },
  OutOfMemory: { retireAtOnce: true, endsSession: () => 'its sandbox ran out of memory and was killed' },
  SandboxExited: { retireAtOnce: true, endsSession: () => 'its sandbox exited (the code ended the interpreter, or hit a limit)' },
  SandboxLost: { retireAtOnce: true, endsSession: () => 'the connection to its sandbox broke, so the sandbox was discarded' },
  ProtocolError: { retireAtOnce: true, endsSession: () => 'its sandbox broke the wire protocol and was killed' },
  // Nothing ran on the sandbox, or the code's own error: it is sound.
  ValidationError: { retireAtOnce: false },
  SessionEnded: { retireAtOnce: false },
};

const SOUND: Fate = { retireAtOnce: false };
/** The run failed inside the daemon: the sandbox is in an unknown state. */
export const UNKNOWN: Fate = { retireAtOnce: true, endsSession: () => 'the daemon failed while running it' };

/**
 * The fate of a run from the error the daemon itself gave it, never from an error type the code
 * raised (code may raise an exception class named `Timeout`): no daemon error, a sound sandbox.
 */
export function fateOf(daemonError: DaemonErrorType | undefined): Fate {
  return daemonError ? FATES[daemonError] : SOUND;
}
