import { NEW_SESSION, type RunResult, type ServerInfo } from '@mcp-code-mode/protocol';
import type { Sandbox } from '../sandbox/sandbox.js';
import type { ToolHost } from '../runs/tool-host.js';
import { describeServers, validationResult } from '../runs/validation-result.js';
import { SessionGoneError, SessionLimitError, type Session, type SessionManager } from './session-manager.js';

export interface SessionRunContext {
  sessions: SessionManager<Sandbox>;
  host: Pick<ToolHost, 'describe'>;
  /** `"new"` or a session id, as the run input gave it. */
  ref: string;
  /** The run's `servers`, deduplicated; empty means "the session's own". */
  requested: string[];
  timeoutSec: number;
  started: number;
  signal: AbortSignal;
}

/** Runs the code on a sandbox with the given proxies (RunExecutor.execute, bound to one run). */
export type ExecuteOn = (sandbox: Sandbox, infos: ServerInfo[]) => Promise<RunResult>;

// Error types after which the sandbox may still be running the code, or is gone: the session ends.
// (The executor's ABNORMAL list, each with the reason a later run of the session is told.)
const ENDS_SESSION: Record<string, (timeoutSec: number) => string> = {
  Timeout: (s) => `a run in it went past its ${s} s timeout, so its sandbox was killed`,
  Cancelled: () => 'a run in it was cancelled, so its sandbox was killed',
  OutOfMemory: () => 'its sandbox ran out of memory and was killed',
  SandboxExited: () => 'its sandbox exited (the code ended the interpreter, or hit a limit)',
  SandboxLost: () => 'the connection to its sandbox broke, so the sandbox was discarded',
  ProtocolError: () => 'its sandbox broke the wire protocol and was killed',
};


/** The result of a run whose session just ended, told so that the model starts a new one. */
function withEndedSession(result: RunResult, reason: string): RunResult {
  const advice = `The session has ended (${reason}); its variables and files are gone. Start a new one with session: "new".`;
  const error = result.error ?? { type: 'SessionEnded', message: '' };
  return {
    ...result,
    summary: `${result.summary} (session ended)`,
    error: { ...error, message: error.message ? `${error.message}. ${advice}` : advice },
  };
}

/**
 * One run in a session: checks the id and the allowlist, starts the session for `"new"`, waits for
 * the session's earlier runs, runs, and ends the session when the run did not end normally. Every
 * refusal is a validation_error whose message says what to do; never a silent fresh state.
 */
export async function runInSession(ctx: SessionRunContext, execute: ExecuteOn): Promise<RunResult> {
  const { sessions, started } = ctx;
  let session: Session<Sandbox> | undefined;
  let servers = ctx.requested;
  if (ctx.ref !== NEW_SESSION) {
    try {
      session = sessions.get(ctx.ref);
    } catch (err) {
      if (err instanceof SessionGoneError) return validationResult(`session: ${err.message}`, started);
      throw err;
    }
    const outside = ctx.requested.filter((name) => !session!.servers.includes(name));
    if (outside.length > 0) {
      const fixed = session.servers.length > 0 ? session.servers.join(', ') : 'none';
      return validationResult(`servers: this session was started with servers [${fixed}] and a run in it cannot add ${outside.join(', ')}; start a new session with session: "new" and the servers it needs`, started);
    }
    if (servers.length === 0) servers = [...session.servers];
  }
  const described = await describeServers(ctx.host, servers, ctx.signal, started);
  if ('refused' in described) return described.refused;
  const { infos } = described;
  if (!session) {
    try {
      session = await sessions.start(servers, ctx.signal);
    } catch (err) {
      if (err instanceof SessionLimitError) return validationResult(`session: ${err.message}`, started);
      throw err;
    }
  }
  const id = session.id;
  let result: RunResult;
  try {
    result = await sessions.run(session, async (sandbox) => {
      // The caller left while this run waited for the session's earlier ones: nothing ran.
      if (ctx.signal.aborted) return { ...validationResult('the run was cancelled before it started', started), status: 'error', summary: 'Cancelled' };
      const ran = await execute(sandbox, infos);
      const ends = ran.status !== 'success' && ran.error ? ENDS_SESSION[ran.error.type] : undefined;
      if (ends) await sessions.end(id, ends(ctx.timeoutSec));
      return ran;
    });
  } catch (err) {
    if (err instanceof SessionGoneError) return validationResult(`session: ${err.message}`, started);
    throw err;
  }
  const state = sessions.describe(id);
  if (state.state === 'ended') return { ...withEndedSession(result, state.reason), session: state };
  return { ...result, session: state };
}
