import assert from 'node:assert/strict';
import { eventually } from './poll.ts';
export { eventually };
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunResult } from '@mcp-code-mode/protocol';
import { hostProcesses, leftoversOf, sandboxesOf, type DaemonRef, type TestEngine } from './engines.ts';
import { startDaemonProcess, waitWarm, type DaemonHandle } from './daemon-process.ts';

/** Warm containers of every hostile-suite daemon: what the engine must hold once a case is over. */
export const POOL_SIZE = 2;

/** A value planted in the daemon's environment: no run may ever see it. */
export const DAEMON_SECRET = 'daemon-secret-4f1c9a7e';
/** A value planted in an MCP server's `env`: no run may ever see it. */
export const SERVER_SECRET = 'server-secret-b83d20c5';

export const HOSTILE_SERVER = fileURLToPath(new URL('../fixtures/servers/hostile-server.mjs', import.meta.url));

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface HostileDaemon {
  daemon: DaemonHandle;
  engine: TestEngine;
  /** The daemon's HOME, with the MCP config files. */
  home: string;
  run(code: string, extra?: Record<string, unknown>): Promise<RunResult>;
  /** A plain run still succeeds, and the engine settles to exactly the warm pool. */
  recovered(): Promise<void>;
  /** Stops the daemon, checks it left nothing on the host (containers; bwrap records, uids, processes, cgroups), and removes its files. */
  dispose(): Promise<void>;
}

/**
 * The MCP servers of the suite, all the same fixture in different moods: `hostile` (with a secret
 * in its env), `fragile` (the one crashed on purpose), `garbled` (garbage on stdout before it speaks
 * MCP), `bystander` (never allowed to any run), `missing` (a command that does not exist). Plus two
 * bad config files in the user's MCP servers directory: one not JSON, one with wrong types.
 */
export function writeServerConfig(home: string): string {
  const node = process.execPath;
  const config = {
    mcpServers: {
      hostile: { command: node, args: [HOSTILE_SERVER], env: { HOSTILE_SECRET: SERVER_SECRET } },
      fragile: { command: node, args: [HOSTILE_SERVER] },
      garbled: { command: node, args: [HOSTILE_SERVER], env: { HOSTILE_GARBAGE_AT_START: '1' } },
      bystander: { command: node, args: [HOSTILE_SERVER] },
      missing: { command: '/nonexistent/mcp-server-binary', args: [] },
    },
  };
  const file = join(home, 'servers.json');
  writeFileSync(file, JSON.stringify(config, null, 2));
  const dir = join(home, '.config', 'mcp', 'servers');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'broken.json'), '{"mcpServers": {"half": {"command": ');
  writeFileSync(join(dir, 'wrong-types.json'), JSON.stringify({ mcpServers: { typo: { command: 42, args: 'not-a-list' } } }));
  return file;
}

/** Starts a daemon for the hostile suite: the MCP fixtures configured, a secret in its environment. */
export async function startHostileDaemon(engine: TestEngine, extraEnv: Record<string, string> = {}): Promise<HostileDaemon> {
  const home = mkdtempSync(join(tmpdir(), 'mcm-home-'));
  const config = writeServerConfig(home);
  const daemon = await startDaemonProcess(engine, {
    HOME: home,
    MCP_SERVERS_CONFIG: config,
    MCP_BRIDGE_POOL_SIZE: String(POOL_SIZE),
    MCP_BRIDGE_MAX_OUTPUT_BYTES: '4096',
    HOSTILE_DAEMON_SECRET: DAEMON_SECRET,
    ...extraEnv,
  });
  await waitWarm(daemon.client, POOL_SIZE);
  return hostileHandle(daemon, engine, home);
}

export function hostileHandle(daemon: DaemonHandle, engine: TestEngine, home: string): HostileDaemon {
  const handle: HostileDaemon = {
    daemon,
    engine,
    home,
    run: async (code, extra = {}) => (await handle.daemon.client.run({ code, ...extra })).result,
    recovered: () => expectRecovered(handle.daemon, engine),
    dispose: async () => {
      await handle.daemon.stop();
      // Read before the state directory goes: on bwrap its records are what names the sandboxes.
      const left = await leftoversOf(engine, handle.daemon);
      await handle.daemon[Symbol.asyncDispose]();
      rmSync(home, { recursive: true, force: true });
      assert.deepEqual(left, [], 'the stopped daemon left these behind');
    },
  };
  return handle;
}

/**
 * Waits until the runtime holds exactly `expected` sandboxes of this daemon, all running. Finished
 * runs' sandboxes are removed in the background, right after their answers.
 */
export async function settled(engine: TestEngine, daemon: DaemonRef, expected = POOL_SIZE, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: string[] = [];
  for (;;) {
    const rows = await sandboxesOf(engine, daemon);
    last = rows.map((c) => `${c.id.slice(0, 12)}:${c.state}`);
    if (rows.length === expected && rows.every((c) => c.state === 'running')) return;
    if (Date.now() > deadline) assert.fail(`the engine holds ${JSON.stringify(last)} for this daemon, not ${expected} running warm containers`);
    await sleep(200);
  }
}

/** The daemon still answers a plain run, and holds no container beyond the warm pool. */
export async function expectRecovered(daemon: DaemonHandle, engine: TestEngine, expected = POOL_SIZE): Promise<void> {
  const { result } = await daemon.client.run({ code: 'print(1)', timeout: 60 });
  assert.equal(result.status, 'success', `a plain run after the case: ${JSON.stringify(result)}`);
  assert.deepEqual(result.stdout, ['1']);
  await settled(engine, daemon, expected);
}

/** Pids of the live children of a process (the daemon's MCP servers). */
export function childPids(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command (which may hold spaces) start after the last ')': state, ppid.
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(ppid) === pid && state !== 'Z') children.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return children;
}

/**
 * The sandbox of this daemon that runs a process with exactly this command line: found from the
 * host's /proc (the test runs as root on the runtime's machine), by the sandbox id in the
 * process's cgroup path, which works for Docker, Podman (container ids) and bwrap (its cgroups are
 * named after its sandbox ids) alike.
 */
export async function containerRunning(engine: TestEngine, daemon: DaemonRef, argv: string[], timeoutMs = 30_000): Promise<string> {
  const wanted = argv.join('\0');
  let found: string | undefined;
  await eventually(async () => {
    const ids = (await sandboxesOf(engine, daemon)).map((c) => c.id);
    for (const p of hostProcesses()) {
      if (p.cmdline.join('\0') !== wanted) continue;
      found = ids.find((id) => p.cgroup.includes(id));
      if (found) return true;
    }
    return false;
  }, `a sandbox of this daemon runs ${argv.join(' ')}`, timeoutMs);
  return found!;
}

/** The host pids of a sandbox's processes (bwrap: by its cgroup; engines: the same, by container id). */
export function sandboxPids(id: string): number[] {
  return hostProcesses().filter((p) => p.cgroup.includes(id)).map((p) => p.pid);
}

/**
 * Kills a sandbox from outside the daemon, as a crash or an operator would: `docker kill` on an
 * engine, SIGKILL to every process of the sandbox on bwrap (no engine to ask).
 */
export async function killSandbox(engine: TestEngine, id: string): Promise<void> {
  if (engine.docker) {
    await engine.docker.getContainer(id).kill();
    return;
  }
  // Until none is left, as `docker kill` returns once the container is dead (a fork between two reads is caught by the next).
  await eventually(() => {
    const pids = sandboxPids(id);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
    return pids.length === 0;
  }, `every process of sandbox ${id} is dead`, 10_000);
}

/**
 * Freezes a sandbox from outside: `docker pause` on an engine (the freezer cgroup), SIGSTOP to
 * every process of the sandbox on bwrap (which has no freezer of its own).
 */
export async function freezeSandbox(engine: TestEngine, id: string): Promise<void> {
  if (engine.docker) {
    await engine.docker.getContainer(id).pause();
    return;
  }
  for (const pid of sandboxPids(id)) {
    try {
      process.kill(pid, 'SIGSTOP');
    } catch {
      // Gone already.
    }
  }
}

/** Per-case limit of node:test: long enough for a slow shared machine, short of hanging the suite. */
export const CASE = { timeout: 240_000 };
