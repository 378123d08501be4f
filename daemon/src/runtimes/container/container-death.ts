import type { SandboxDeath } from '../runtime.js';
import type { ContainerState } from './container-client.js';

/**
 * Asks the engine what happened to a container whose attach stream closed. The channel can close a moment
 * before the engine records the exit, so a container still seen running is asked again briefly.
 * A container being removed from outside can first be reported as exited (Podman records a stop,
 * with a code that may not be final yet, before the removal shows), so an exit is confirmed once
 * more after `confirmMs`: gone or removing by then means removed.
 */
export async function diagnoseClosed(sandbox: { state(): Promise<ContainerState | undefined> }, settleMs = 300, confirmMs = 150): Promise<SandboxDeath> {
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

