import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * Where a daemon keeps its socket, pid, lock and log: one definition for the daemon, which makes
 * them, and for the shim and the CLI, which must find (or start) it.
 */
export interface StatePaths {
  dir: string;
  socket: string;
  pidFile: string;
  logFile: string;
  /** One JSON line per run (docs/APPROVALS.md), rotated to .1-.3 by size. */
  auditFile: string;
  /** Held by the running daemon for its whole life; a second daemon on the same directory refuses to start. */
  lockFile: string;
  /** Label value naming every container started for this state directory. */
  owner: string;
}

/** MCP_BRIDGE_STATE_DIR, else $XDG_STATE_HOME/mcp-code-mode, else ~/.local/state/mcp-code-mode. */
export function statePaths(env: Record<string, string | undefined>): StatePaths {
  const dir = resolve(env.MCP_BRIDGE_STATE_DIR || join(env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state'), 'mcp-code-mode'));
  return {
    dir,
    socket: join(dir, 'daemon.sock'),
    pidFile: join(dir, 'daemon.pid'),
    logFile: join(dir, 'daemon.log'),
    auditFile: join(dir, 'audit.jsonl'),
    lockFile: join(dir, 'daemon.lock'),
    owner: createHash('sha256').update(dir).digest('hex').slice(0, 16),
  };
}
