import { mkdir } from 'node:fs/promises';
import type { StatePaths } from '@mcp-code-mode/client';
import { acquireInstanceLock, DaemonRunningError, type InstanceLock } from './instance-lock.js';

/**
 * Takes the state directory for this daemon process before any other work (no engine call, no MCP
 * server started), so that of two daemons started at once (two shims, or the login service and a
 * shim) one goes on and the other leaves at once. Undefined when another daemon holds it: the caller
 * exits with EXIT_ALREADY_RUNNING, which the shim's launcher reads as "use the other one".
 */
export async function lockStateDir(paths: StatePaths, stderr: { write(text: string): unknown }): Promise<InstanceLock | undefined> {
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });
  try {
    return await acquireInstanceLock(paths.lockFile);
  } catch (err) {
    if (!(err instanceof DaemonRunningError)) throw err;
    stderr.write(`mcp-code-mode: ${err.message}\n`);
    return undefined;
  }
}
