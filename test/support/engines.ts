import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';
import { detectCgroupLayout } from '../../daemon/src/runtimes/bwrap/cgroups.ts';
import { SANDBOX_ID, SandboxRecordFileSchema, type SandboxRecordFile } from '../../daemon/src/runtimes/bwrap/records.ts';
import { DEFAULT_CLAIM_DIR, DEFAULT_UID_RANGE, type UidClaim } from '../../daemon/src/runtimes/bwrap/uid-claims.ts';

/** A container engine, driven (and inspected) through its socket. */
export interface ContainerEngine {
  name: 'docker' | 'podman';
  /** What MCP_BRIDGE_RUNTIME is set to for a daemon on this engine. */
  socket: string;
  docker: Docker;
  /** The daemon's environment for this engine. */
  env: Record<string, string>;
}

/** bubblewrap with no engine: sandboxes are found by their records, uids and cgroups on the host. */
export interface BwrapEngine {
  name: 'bwrap';
  /** What MCP_BRIDGE_RUNTIME is set to (not a socket: bwrap has none). */
  socket: 'bwrap';
  docker?: undefined;
  env: Record<string, string>;
}

export type TestEngine = ContainerEngine | BwrapEngine;

/** Shared with test/support/bwrap.ts: the image is unpacked once for every bwrap test (about 3 s from the engine). */
export const BWRAP_TEST_CACHE = '/var/tmp/mcm-test-bwrap-rootfs';

const CANDIDATES: { name: 'docker' | 'podman'; socket: string }[] = [
  { name: 'docker', socket: '/var/run/docker.sock' },
  { name: 'podman', socket: '/run/podman/podman.sock' },
];

/** Why bwrap cannot be a test engine here, or undefined. */
export function bwrapUnavailable(): string | undefined {
  try {
    execFileSync('bwrap', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'bwrap is not installed (apt-get install -y bubblewrap)';
  }
  if (process.getuid?.() !== 0) return 'the tests on bwrap run as root (cgroup limits and a host uid per sandbox)';
  return undefined;
}

/**
 * The runtimes this machine offers. Tests run against each. TEST_ENGINES=docker (or podman, or
 * bwrap, or a comma list) narrows the list; at least one must be available, or the suite fails
 * loudly. bwrap is one when it is installed and the tests run as root, for the suites that pass
 * on it (`{ bwrap: true }`); the others run on it only when TEST_ENGINES names it (see
 * docs/SECURITY.md, "The bwrap runtime", for what differs from a container).
 */
export async function availableEngines(options: { bwrap?: boolean } = {}): Promise<TestEngine[]> {
  const wanted = process.env.TEST_ENGINES?.split(',').map((s) => s.trim());
  const found: TestEngine[] = [];
  for (const c of CANDIDATES) {
    if (wanted && !wanted.includes(c.name)) continue;
    if (!existsSync(c.socket)) continue;
    const docker = new Docker({ socketPath: c.socket });
    try {
      await docker.ping();
      found.push({ ...c, docker, env: { MCP_BRIDGE_RUNTIME: c.socket } });
    } catch {
      // Not answering: not available for this run.
    }
  }
  if (wanted ? wanted.includes('bwrap') : options.bwrap === true) {
    const why = bwrapUnavailable();
    if (why === undefined) found.push({ name: 'bwrap', socket: 'bwrap', env: { MCP_BRIDGE_RUNTIME: 'bwrap', MCP_BRIDGE_BWRAP_CACHE: BWRAP_TEST_CACHE } });
    else if (wanted) throw new Error(`TEST_ENGINES names bwrap, but ${why}`);
  }
  if (found.length === 0) throw new Error('no container engine answers; run `bash scripts/ensure-engine.sh` (and ENGINE=podman for Podman)');
  return found;
}

/** The engine's container handle: for the tests that act on a container itself (kill, pause, inspect). */
export function dockerOf(engine: TestEngine): Docker {
  if (!engine.docker) throw new Error(`${engine.name} has no container engine`);
  return engine.docker;
}

/** Containers (any state) that a daemon with this state directory owns. */
export async function containersOf(engine: TestEngine, owner: string): Promise<Docker.ContainerInfo[]> {
  return dockerOf(engine).listContainers({ all: true, filters: JSON.stringify({ label: [`mcp-code-mode.owner=${owner}`] }) });
}

/** What a daemon is known by: its state directory (bwrap records) and owner id (container labels). */
export interface DaemonRef {
  owner: string;
  stateDir: string;
}

/** One sandbox of a daemon, whatever the runtime: `running`, or the engine's word for its state. */
export interface TestSandbox {
  id: string;
  state: string;
  /** The id of the daemon that made it (a container's label, a bwrap record's field). */
  daemon: string | undefined;
}

/** The bwrap sandbox records of a state directory (a sandbox exists from its record on). */
export function bwrapRecords(stateDir: string): SandboxRecordFile[] {
  const dir = join(stateDir, 'bwrap');
  if (!existsSync(dir)) return [];
  const out = [];
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.json') || name.startsWith('.')) continue;
    try {
      out.push(SandboxRecordFileSchema.parse(JSON.parse(readFileSync(join(dir, name), 'utf8'))));
    } catch {
      // Removed (or half renamed) while we read.
    }
  }
  return out;
}

const alive = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
};

/**
 * The sandboxes a daemon holds: its containers (by owner label), or its bwrap records (a record
 * whose launcher still lives is `running`; one whose launcher is gone is `exited`).
 */
export async function sandboxesOf(engine: TestEngine, daemon: DaemonRef): Promise<TestSandbox[]> {
  if (engine.name !== 'bwrap') return (await containersOf(engine, daemon.owner)).map((c) => ({ id: c.Id, state: c.State, daemon: c.Labels['mcp-code-mode.daemon'] }));
  const rows = bwrapRecords(daemon.stateDir).map((r) => ({ id: r.id, state: r.pid !== undefined && alive(r.pid) ? 'running' : 'exited', daemon: r.daemon }));
  const seen = SEEN.get(daemon.stateDir) ?? new Set<string>();
  SEEN.set(daemon.stateDir, seen);
  for (const r of rows) seen.add(r.id);
  return rows;
}

/**
 * Every bwrap sandbox id seen of a state directory: a record goes with its sandbox, so what a
 * cleanup missed (a cgroup) is found by the ids seen while it lived.
 */
const SEEN = new Map<string, Set<string>>();

/** A live (not zombie) process on the host: its pid, uid and cgroup lines. */
interface HostProcess {
  pid: number;
  uid: number;
  cgroup: string;
  cmdline: string[];
}

export function hostProcesses(): HostProcess[] {
  const out: HostProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      if (/^State:\s+Z/m.test(status)) continue;
      const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
      out.push({ pid: Number(entry), uid, cgroup: readFileSync(`/proc/${entry}/cgroup`, 'utf8'), cmdline: readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0$/, '').split('\0') });
    } catch {
      // Ended while we looked.
    }
  }
  return out;
}

/** The uid claims (of every daemon of the machine) by uid. */
function uidClaims(): Map<number, UidClaim> {
  const out = new Map<number, UidClaim>();
  if (!existsSync(DEFAULT_CLAIM_DIR)) return out;
  for (const name of readdirSync(DEFAULT_CLAIM_DIR)) {
    if (!/^\d+$/.test(name)) continue;
    try {
      out.set(Number(name), JSON.parse(readFileSync(join(DEFAULT_CLAIM_DIR, name, 'owner.json'), 'utf8')) as UidClaim);
    } catch {
      // Released while we read.
    }
  }
  return out;
}

/** Where this machine makes bwrap sandbox cgroups for a daemon started by this test process (its cgroups are ours). */
async function bwrapCgroupParents(): Promise<string[]> {
  const detect = (needCpu: boolean) =>
    detectCgroupLayout({
      mountinfo: readFileSync('/proc/self/mountinfo', 'utf8'),
      procCgroup: readFileSync('/proc/self/cgroup', 'utf8'),
      v2Controllers: async (dir) => readFileSync(join(dir, 'cgroup.controllers'), 'utf8'),
      isRoot: process.getuid?.() === 0,
      needCpu,
    });
  // With the cpu controller when there is one: a daemon given MCP_BRIDGE_CPUS makes a cgroup there too.
  let layout = await detect(true);
  if ('unusable' in layout) layout = await detect(false);
  if ('unusable' in layout) return [];
  if (layout.version === 2) return [layout.parent];
  return [...new Set(Object.values(layout.parents))];
}

/**
 * Everything of a daemon's that the host still holds: for a container engine, its containers; for
 * bwrap, its records, the processes running as a sandbox uid that is claimed for its state
 * directory or not claimed at all (an unclaimed sandbox uid runs nothing, whoever's it was), and
 * the cgroups named after any of its sandboxes (the ones in `seen`, by default every id that
 * sandboxesOf saw, and those of its records).
 * Each as a line that says what it is, for an assertion message.
 */
export async function leftoversOf(engine: TestEngine, daemon: DaemonRef, seen: Iterable<string> = SEEN.get(daemon.stateDir) ?? []): Promise<string[]> {
  if (engine.name !== 'bwrap') return (await containersOf(engine, daemon.owner)).map((c) => `container ${c.Id.slice(0, 12)} (${c.State})`);
  const out: string[] = [];
  const records = bwrapRecords(daemon.stateDir);
  for (const r of records) out.push(`record ${r.id}`);
  const claims = uidClaims();
  for (const [uid, claim] of claims) if (claim.stateDir === daemon.stateDir) out.push(`uid claim ${uid} (${claim.sandboxId})`);
  const ids = new Set([...seen, ...records.map((r) => r.id)]);
  for (const p of hostProcesses()) {
    if (p.uid < DEFAULT_UID_RANGE.base || p.uid >= DEFAULT_UID_RANGE.base + DEFAULT_UID_RANGE.count) continue;
    const claim = claims.get(p.uid);
    if (claim && claim.stateDir !== daemon.stateDir) continue;
    out.push(`process ${p.pid} uid ${p.uid} (${p.cmdline.join(' ').slice(0, 80)})${claim ? '' : ' with no uid claim'}`);
  }
  for (const parent of await bwrapCgroupParents()) {
    for (const id of ids) if (existsSync(join(parent, id))) out.push(`cgroup ${join(parent, id)}`);
  }
  return out;
}

/** Sandbox ids are `bw-` and 12 hex digits on bwrap; the engines' container ids are 64 hex digits. */
export const isBwrapId = (id: string): boolean => SANDBOX_ID.test(id);
