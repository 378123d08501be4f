import { spawn as nodeSpawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, open, readFile } from 'node:fs/promises';
import { ControlError } from './control-client.js';
import { pidAlive, readPid } from './pid-file.js';
import type { StatePaths } from './state-paths.js';

/** Exit code of a daemon that found another daemon holding its state directory (EX_TEMPFAIL). */
export const EXIT_ALREADY_RUNNING = 75;

export interface LauncherOptions {
  paths: StatePaths;
  /** The daemon gets this environment: the same MCP_BRIDGE_* settings the shim was started with. */
  env: Record<string, string | undefined>;
  /** MCP_BRIDGE_AUTOSTART. */
  autostart: boolean;
  /** How to answer "is a daemon there?"; normally ControlClient.alive. */
  alive: () => Promise<boolean>;
  /** Program and arguments that run the daemon in the background (the CLI knows them; this package does not). */
  command: string[];
  /** How long a new daemon may take to answer (the first start may build the sandbox image). */
  readyTimeoutMs?: number;
  pollMs?: number;
  spawn?: (command: string, args: string[], options: SpawnOptions) => ChildProcess;
  /** Whether a live process holds the state directory's lock; normally read from the lock file. */
  lockHeld?: () => Promise<boolean>;
}

/** What became of a daemon process this launcher spawned, as far as it is known yet. */
interface SpawnedDaemon {
  exit?: { code: number | null; signal: NodeJS.Signals | null };
  spawnError?: Error;
}

/** Starts the daemon on demand, once, however many callers ask at the same time. */
export class DaemonLauncher {
  private starting: Promise<void> | undefined;
  private readonly spawn: NonNullable<LauncherOptions['spawn']>;

  constructor(private readonly options: LauncherOptions) {
    this.spawn = options.spawn ?? nodeSpawn;
  }

  /** Resolves once a daemon answers; starts one when none does and autostart is on. */
  async ensure(): Promise<void> {
    if (await this.options.alive()) return;
    if (!this.options.autostart) {
      throw new ControlError(
        'autostart_disabled',
        `no mcp-code-mode daemon is running for ${this.options.paths.dir}, and MCP_BRIDGE_AUTOSTART=0 forbids starting one. ` +
          'Start it with `mcp-code-mode start`, or have it start at login with `mcp-code-mode service install`.',
      );
    }
    this.starting ??= this.start().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async start(): Promise<void> {
    const { paths } = this.options;
    const [program, ...args] = this.options.command;
    if (!program) throw new Error('the daemon command is empty');
    // The script comes after node's own flags, if any.
    const script = args.find((arg) => !arg.startsWith('-'));
    if (script && script.endsWith('.js') && !existsSync(script)) {
      throw new ControlError('daemon_start_failed', `cannot start the daemon: ${script} is missing (is the daemon package built? run \`npm run build\`)`);
    }
    await mkdir(paths.dir, { recursive: true, mode: 0o700 });
    const deadline = Date.now() + (this.options.readyTimeoutMs ?? 120_000);
    const pollMs = this.options.pollMs ?? 100;
    const lockHeld = this.options.lockHeld ?? (() => lockHolderAlive(paths.lockFile));
    for (;;) {
      const child = await this.spawnDaemon(program, args);
      for (;;) {
        if (await this.options.alive()) return;
        if (child.spawnError) {
          throw new ControlError('daemon_start_failed', `cannot start the daemon (${this.options.command.join(' ')}): ${child.spawnError.message}`, { cause: child.spawnError });
        }
        if (child.exit && child.exit.code !== EXIT_ALREADY_RUNNING) {
          throw new ControlError(
            'daemon_start_failed',
            `the daemon exited while starting (${child.exit.signal ?? `exit code ${child.exit.code}`}). Last lines of ${paths.logFile}:\n${await logTail(paths.logFile)}`,
          );
        }
        if (Date.now() > deadline) {
          throw new ControlError(
            'daemon_start_failed',
            `the daemon did not answer on ${paths.socket} within ${Math.round((this.options.readyTimeoutMs ?? 120_000) / 1000)} s. Last lines of ${paths.logFile}:\n${await logTail(paths.logFile)}`,
          );
        }
        // Another daemon held the state directory: wait for it while it starts, but if it was one on
        // its way out (stopping) and is gone now, start ours again.
        if (child.exit && !(await lockHeld())) break;
        await new Promise((resolve) => setTimeout(resolve, pollMs));
      }
    }
  }

  /** One detached daemon process, its output in the log file; what becomes of it is recorded. */
  private async spawnDaemon(program: string, args: string[]): Promise<SpawnedDaemon> {
    const { paths } = this.options;
    // The log file takes the daemon's stdout and stderr: whatever it says before its logger exists
    // (a bad setting, no engine) lands there, and the error in start() quotes it.
    const log = await open(paths.logFile, 'a', 0o600);
    const seen: SpawnedDaemon = {};
    let child: ChildProcess;
    try {
      await chmod(paths.logFile, 0o600);
      child = this.spawn(program, args, { env: this.options.env, detached: true, stdio: ['ignore', log.fd, log.fd] });
      // At once, before any await: a spawn error comes on the next tick, and unheard it would crash the caller.
      child.once('exit', (code, signal) => (seen.exit = { code, signal }));
      child.once('error', (err) => (seen.spawnError = err));
    } finally {
      await log.close();
    }
    // The daemon outlives this shim: the next client's shim will use it.
    child.unref();
    return seen;
  }
}

/** True when the lock file names a process that is alive. */
export async function lockHolderAlive(lockFile: string): Promise<boolean> {
  const pid = await readPid(lockFile);
  return pid !== undefined && pidAlive(pid);
}

/** The last lines of the daemon log, pino's JSON lines shown as their messages. */
export async function logTail(logFile: string, lines = 8): Promise<string> {
  const text = await readFile(logFile, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .slice(-lines)
    .map((line) => {
      try {
        const entry = JSON.parse(line) as { msg?: string; err?: { message?: string } };
        return `  ${entry.msg ?? line}${entry.err?.message ? `: ${entry.err.message}` : ''}`;
      } catch {
        return `  ${line}`;
      }
    })
    .join('\n');
}
