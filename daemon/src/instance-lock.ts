import { readFileSync, unlinkSync } from 'node:fs';
import { open, stat, unlink } from 'node:fs/promises';
import { pidAlive, readPid } from '@mcp-code-mode/client';

/** Another live daemon holds the state directory. */
export class DaemonRunningError extends Error {
  constructor(readonly pid: number, readonly lockFile: string) {
    super(`another mcp-code-mode daemon (pid ${pid}) holds ${lockFile}; stop it with \`mcp-code-mode stop\` or use another MCP_BRIDGE_STATE_DIR`);
    this.name = 'DaemonRunningError';
  }
}

export interface InstanceLock {
  readonly path: string;
  /** Removes the lock if it is still ours. Synchronous so it can run in an `exit` handler. */
  release(): void;
}

export interface LockOptions {
  pid?: number;
  isAlive?: (pid: number) => boolean;
  /** A break lock older than this was left by a crash while breaking a stale lock. */
  staleBreakMs?: number;
  retryMs?: number;
  timeoutMs?: number;
}

async function createExclusive(path: string, content: string): Promise<boolean> {
  try {
    const handle = await open(path, 'wx', 0o600);
    try {
      await handle.writeFile(content);
    } finally {
      await handle.close();
    }
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/**
 * One daemon per state directory, decided before any engine work: the lock file holds the pid of the
 * daemon that owns the directory. A lock whose pid is dead is stale (the daemon was killed) and is
 * broken; breaking happens under a second lock so that two starters seeing the same stale lock cannot
 * both win (the second one re-reads the lock under the break lock and finds the first one alive).
 */
export async function acquireInstanceLock(path: string, options: LockOptions = {}): Promise<InstanceLock> {
  const pid = options.pid ?? process.pid;
  const isAlive = options.isAlive ?? pidAlive;
  const breakPath = `${path}.break`;
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  const lock: InstanceLock = {
    path,
    release() {
      try {
        if (Number.parseInt(readFileSync(path, 'utf8'), 10) === pid) unlinkSync(path);
      } catch {
        // Already gone.
      }
    },
  };
  for (;;) {
    if (await createExclusive(path, `${pid}\n`)) return lock;
    const holder = await readPid(path);
    if (holder !== undefined && holder !== pid && isAlive(holder)) throw new DaemonRunningError(holder, path);
    if (await createExclusive(breakPath, `${pid}\n`)) {
      try {
        const again = await readPid(path);
        if (again !== undefined && again !== pid && isAlive(again)) throw new DaemonRunningError(again, path);
        await unlink(path).catch(() => undefined);
        if (await createExclusive(path, `${pid}\n`)) return lock;
      } finally {
        await unlink(breakPath).catch(() => undefined);
      }
    } else {
      const age = await stat(breakPath).then((s) => Date.now() - s.mtimeMs, () => 0);
      if (age > (options.staleBreakMs ?? 5000)) await unlink(breakPath).catch(() => undefined);
    }
    if (Date.now() > deadline) throw new Error(`could not take the daemon lock ${path}: it is held by a process that is gone, and breaking it failed`);
    await new Promise((resolve) => setTimeout(resolve, options.retryMs ?? 50));
  }
}
