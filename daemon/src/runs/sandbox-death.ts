import type { DaemonErrorType } from '@mcp-code-mode/protocol';
import type { SandboxDeath } from '../runtimes/runtime.js';

const SIGNALS: Record<number, string> = { 6: 'SIGABRT', 9: 'SIGKILL', 11: 'SIGSEGV', 15: 'SIGTERM' };

/** The error a run reports for a sandbox that died under it. */
export function deathError(death: SandboxDeath): { summary: string; type: DaemonErrorType & ('OutOfMemory' | 'SandboxExited' | 'SandboxLost'); message: string } {
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
