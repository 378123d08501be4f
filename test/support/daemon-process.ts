import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ControlClient } from '@mcp-code-mode/client';
import { statePaths } from '../../daemon/src/state-dir.ts';
import { DAEMON_NODE_FLAGS } from '../../packages/cli/src/context.ts';
import type { TestEngine } from './engines.ts';

export const CLI = fileURLToPath(new URL('../../packages/cli/bin/mcp-code-mode.js', import.meta.url));

export interface DaemonHandle {
  stateDir: string;
  socket: string;
  owner: string;
  env: NodeJS.ProcessEnv;
  client: ControlClient;
  proc: ChildProcess;
  logs: () => string;
  /** SIGTERM and wait for exit. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait for exit. */
  kill(): Promise<void>;
  /** Start another daemon on the same state directory. */
  restart(): Promise<DaemonHandle>;
  /** Stop if running, and remove the state directory. */
  [Symbol.asyncDispose](): Promise<void>;
}

export function exited(proc: ChildProcess): Promise<number | null> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve(proc.exitCode);
  return new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
}

/** Starts `mcp-code-mode daemon` as a real process on its own state directory, and waits until it answers. */
/** `pollMs`: how often it asks whether the daemon answers (the bench's start-up figures poll finely). */
export async function startDaemonProcess(
  engine: TestEngine,
  extraEnv: Record<string, string> = {},
  stateDir = mkdtempSync(join(tmpdir(), 'mcm-')),
  pollMs = 100,
): Promise<DaemonHandle> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    MCP_BRIDGE_STATE_DIR: stateDir,
    ...engine.env,
    MCP_BRIDGE_LOG_LEVEL: 'info',
    ...extraEnv,
  };
  const paths = statePaths(env);
  const proc = spawn(process.execPath, [...DAEMON_NODE_FLAGS, CLI, 'daemon'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr!.on('data', (c: Buffer) => (log += c.toString('utf8')));
  const client = new ControlClient(paths.socket);
  const deadline = Date.now() + 120_000;
  while (!(await client.alive())) {
    if (proc.exitCode !== null) throw new Error(`daemon exited with ${proc.exitCode}:\n${log}`);
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`daemon did not answer within 120 s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
  const handle: DaemonHandle = {
    stateDir,
    socket: paths.socket,
    owner: paths.owner,
    env,
    client,
    proc,
    logs: () => log,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      return exited(proc);
    },
    async kill() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited(proc);
    },
    restart: () => startDaemonProcess(engine, extraEnv, stateDir),
    async [Symbol.asyncDispose]() {
      await handle.stop();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
  return handle;
}

/** Waits until the daemon's pool reports `warm` ready containers. */
export async function waitWarm(client: ControlClient, warm: number, timeoutMs = 60_000, pollMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = (await client.get('/v1/status')) as { pool: { warm: number } };
    if (status.pool.warm >= warm) return;
    if (Date.now() > deadline) throw new Error(`pool did not reach ${warm} warm containers: ${JSON.stringify(status)}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
