import type { Sandbox } from '../sandbox/sandbox.js';

/** Why a sandbox's channel closed before its result came, as the engine sees its container. */
export type SandboxDeath =
  | { kind: 'oom' }
  | { kind: 'exited'; exitCode: number | null }
  /** The container is gone: removed from outside while the code ran. */
  | { kind: 'removed' }
  /** The engine does not answer, or the container still runs: the connection broke, not the sandbox. */
  | { kind: 'lost' };

const SIGNALS: Record<number, string> = { 6: 'SIGABRT', 9: 'SIGKILL', 11: 'SIGSEGV', 15: 'SIGTERM' };

/**
 * Asks the engine what happened to a sandbox whose channel closed. The channel can close a moment
 * before the engine records the exit, so a container still seen running is asked again briefly.
 * A container being removed from outside can first be reported as exited (Podman records a stop,
 * with a code that may not be final yet, before the removal shows), so an exit is confirmed once
 * more after `confirmMs`: gone or removing by then means removed.
 */
export async function diagnoseClosed(sandbox: Pick<Sandbox, 'state'>, settleMs = 300, confirmMs = 150): Promise<SandboxDeath> {
  const deadline = Date.now() + settleMs;
  let confirmed = false;
  for (;;) {
    let state;
    try {
      state = await sandbox.state();
    } catch {
      return { kind: 'lost' };
    }
    if (state === undefined || state.status === 'removing') return { kind: 'removed' };
    if (state.oomKilled) return { kind: 'oom' };
    if (!state.running) {
      if (confirmed) return { kind: 'exited', exitCode: state.exitCode };
      confirmed = true;
      await new Promise((resolve) => setTimeout(resolve, confirmMs));
      continue;
    }
    if (Date.now() >= deadline) return { kind: 'lost' };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The error a run reports for a sandbox that died under it. */
export function deathError(death: SandboxDeath): { summary: string; type: string; message: string } {
  switch (death.kind) {
    case 'oom':
      return { summary: 'Out of memory', type: 'OutOfMemory', message: 'the sandbox ran out of memory and was killed (raise MCP_BRIDGE_MEMORY or process less data at once)' };
    case 'exited': {
      const code = death.exitCode;
      const signal = code !== null && code > 128 ? SIGNALS[code - 128] ?? `signal ${code - 128}` : undefined;
      // Some engines (Podman on cgroup v1) do not report an OOM kill: its trace is a SIGKILL.
      const hint = signal === 'SIGKILL' ? ': the memory limit or a kill' : '';
      const how = code === null ? '' : signal ? ` with code ${code} (killed by ${signal}${hint})` : ` with code ${code}`;
      return {
        summary: 'Sandbox exited',
        type: 'SandboxExited',
        message: `the sandbox exited${how} before the code finished (os._exit, a fatal signal, a limit, or code that closed the agent's own file descriptors)`,
      };
    }
    case 'removed':
      return { summary: 'Sandbox removed', type: 'SandboxExited', message: 'the sandbox container was removed from outside before the code finished' };
    case 'lost':
      return {
        summary: 'Sandbox lost',
        type: 'SandboxLost',
        message: 'the connection to the sandbox broke before the code finished (was the container engine restarted?); the sandbox was discarded',
      };
  }
}
