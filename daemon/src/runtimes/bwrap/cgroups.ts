// Memory (no swap), pids and CPU limits of a bwrap sandbox: one cgroup per sandbox, on cgroup v1
// (one directory per controller) or v2 (one directory), which is what Docker and Podman do for a
// container. The cgroup is also how a sandbox is killed whole and how its OOM kill is seen.
import { mkdir, readdir, readFile, rmdir, stat, writeFile } from 'node:fs/promises';
import { SANDBOX_ID } from './records.js';
import { join } from 'node:path';

export interface CgroupLimits {
  memoryBytes: number;
  pids: number;
  cpus?: number | undefined;
}

/** Where sandbox cgroups are made: v1, a parent directory per controller; v2, one parent directory. */
export type CgroupLayout =
  | { version: 1; parents: { memory: string; pids: string; cpu?: string } }
  | { version: 2; parent: string };

/** One sandbox's cgroup: a directory per controller (all the same one on v2). */
export interface SandboxCgroup {
  version: 1 | 2;
  memory: string;
  pids: string;
  cpu?: string;
}

/** Its distinct directories, each of which the sandbox's processes join. */
export const cgroupDirs = (cgroup: SandboxCgroup): string[] => [...new Set([cgroup.memory, cgroup.pids, ...(cgroup.cpu ? [cgroup.cpu] : [])])];

/** Where the launcher writes its own pid before it drops to the sandbox uid. */
export const cgroupProcsFiles = (cgroup: SandboxCgroup): string[] => cgroupDirs(cgroup).map((dir) => join(dir, 'cgroup.procs'));

/** The directory of sandbox cgroups under the daemon's own (v1) or the parent (v2). */
export const CGROUP_DIR_NAME = 'mcp-code-mode-bwrap';

interface Mount {
  root: string;
  point: string;
  fstype: string;
  superOptions: string[];
}

export function parseMountinfo(text: string): Mount[] {
  const mounts: Mount[] = [];
  for (const line of text.split('\n')) {
    const dash = line.indexOf(' - ');
    if (dash === -1) continue;
    const left = line.slice(0, dash).split(' ');
    const right = line.slice(dash + 3).split(' ');
    if (left.length < 5 || right.length < 3) continue;
    const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    mounts.push({ root: unescape(left[3]!), point: unescape(left[4]!), fstype: right[0]!, superOptions: right[2]!.split(',') });
  }
  return mounts;
}

/** /proc/self/cgroup: v1 controller (or '' for v2) to the process's cgroup path. */
export function parseProcCgroup(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    for (const controller of m[1]!.split(',')) out.set(controller, m[2]!);
  }
  return out;
}

const within = (mount: Mount, path: string): string => join(mount.point, path.startsWith(mount.root) ? path.slice(mount.root.length) : path);

export interface DetectInput {
  mountinfo: string;
  procCgroup: string;
  /** cgroup.controllers of the v2 parent, when there is a v2 mount. */
  v2Controllers?: (dir: string) => Promise<string | undefined>;
  isRoot: boolean;
  /** A delegated v2 cgroup (an empty one the daemon may write), for a daemon that is not root. */
  delegated?: string | undefined;
  needCpu: boolean;
}

/**
 * Finds where sandbox cgroups can be made, or says why none can (a sentence that says what to do).
 * v1 (and a hybrid machine, whose v1 hierarchies hold the controllers): under the daemon's own
 * cgroup in each hierarchy, so whatever limits the daemon's own parent has still hold; needs root.
 * v2: under the delegated cgroup given, else (root) a cgroup of our own at the top.
 */
export async function detectCgroupLayout(input: DetectInput): Promise<CgroupLayout | { unusable: string }> {
  const mounts = parseMountinfo(input.mountinfo);
  const own = parseProcCgroup(input.procCgroup);
  const v1 = (controller: string): string | undefined => {
    const mount = mounts.find((m) => m.fstype === 'cgroup' && m.superOptions.includes(controller));
    const path = own.get(controller);
    return mount && path !== undefined ? join(within(mount, path), CGROUP_DIR_NAME) : undefined;
  };
  const memory = v1('memory');
  const pids = v1('pids');
  const cpu = v1('cpu');
  if (memory && pids) {
    if (!input.isRoot) return { unusable: 'cgroup v1 needs the daemon to run as root to create sandbox cgroups; run it as root or on a cgroup v2 machine with a delegated cgroup (MCP_BRIDGE_BWRAP_CGROUP)' };
    if (input.needCpu && !cpu) return { unusable: 'MCP_BRIDGE_CPUS is set but the cpu cgroup controller is not mounted' };
    return { version: 1, parents: { memory, pids, ...(cpu ? { cpu } : {}) } };
  }
  const unified = mounts.find((m) => m.fstype === 'cgroup2');
  if (!unified) return { unusable: 'no cgroup filesystem with the memory and pids controllers is mounted' };
  let parent: string;
  if (input.delegated) parent = input.delegated;
  else if (input.isRoot) parent = join(unified.point, CGROUP_DIR_NAME);
  else {
    return {
      unusable:
        'the daemon is not root and has no delegated cgroup: start it under `systemd-run --user --scope -p Delegate=yes` and set MCP_BRIDGE_BWRAP_CGROUP to an empty cgroup directory it owns',
    };
  }
  const controllersDir = input.delegated ? parent : unified.point;
  const available = (await input.v2Controllers?.(controllersDir))?.split(/\s+/) ?? [];
  const needed = ['memory', 'pids', ...(input.needCpu ? ['cpu'] : [])];
  const missing = needed.filter((c) => !available.includes(c));
  if (missing.length > 0) return { unusable: `the cgroup v2 controllers ${missing.join(', ')} are not available in ${controllersDir} (cgroup.controllers)` };
  return { version: 2, parent };
}

/** The files and values that set the limits, in the order they must be written. */
export function limitWrites(version: 1 | 2, limits: CgroupLimits, hasMemsw = true): { controller: 'memory' | 'pids' | 'cpu'; file: string; value: string }[] {
  const period = 100_000;
  const quota = limits.cpus === undefined ? undefined : Math.max(1000, Math.round(limits.cpus * period));
  if (version === 1) {
    return [
      { controller: 'memory', file: 'memory.limit_in_bytes', value: String(limits.memoryBytes) },
      // memory+swap equal to memory: no swap at all, as Docker's MemorySwap == Memory.
      ...(hasMemsw ? [{ controller: 'memory' as const, file: 'memory.memsw.limit_in_bytes', value: String(limits.memoryBytes) }] : [{ controller: 'memory' as const, file: 'memory.swappiness', value: '0' }]),
      { controller: 'pids', file: 'pids.max', value: String(limits.pids) },
      ...(quota !== undefined
        ? [
            { controller: 'cpu' as const, file: 'cpu.cfs_period_us', value: String(period) },
            { controller: 'cpu' as const, file: 'cpu.cfs_quota_us', value: String(quota) },
          ]
        : []),
    ];
  }
  return [
    { controller: 'memory', file: 'memory.max', value: String(limits.memoryBytes) },
    { controller: 'memory', file: 'memory.swap.max', value: '0' },
    { controller: 'pids', file: 'pids.max', value: String(limits.pids) },
    ...(quota !== undefined ? [{ controller: 'cpu' as const, file: 'cpu.max', value: `${quota} ${period}` }] : []),
  ];
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const readOr = (path: string, fallback: string): Promise<string> => readFile(path, 'utf8').catch(() => fallback);
const isCode = (err: unknown, code: string): boolean => (err as NodeJS.ErrnoException | undefined)?.code === code;

/** Makes, limits, kills and removes sandbox cgroups of one layout. */
export class Cgroups {
  private parentsReady?: Promise<void>;

  constructor(readonly layout: CgroupLayout) {}

  private dirFor(controller: 'memory' | 'pids' | 'cpu', name: string): string | undefined {
    if (this.layout.version === 2) return join(this.layout.parent, name);
    const parent = this.layout.parents[controller];
    return parent === undefined ? undefined : join(parent, name);
  }

  /** v2 needs the controllers enabled on the way down; the parent itself holds no process. */
  private async ensureParents(): Promise<void> {
    if (this.layout.version === 1) {
      for (const parent of Object.values(this.layout.parents)) await mkdir(parent, { recursive: true });
      return;
    }
    const parent = this.layout.parent;
    await mkdir(parent, { recursive: true });
    // Only what the directory offers: asking for a controller it lacks fails the whole write.
    const enable = async (dir: string): Promise<void> => {
      const offered = (await readOr(join(dir, 'cgroup.controllers'), '')).split(/\s+/);
      const have = (await readOr(join(dir, 'cgroup.subtree_control'), '')).split(/\s+/);
      const want = ['memory', 'pids', 'cpu'].filter((c) => offered.includes(c) && !have.includes(c));
      if (want.length > 0) await writeFile(join(dir, 'cgroup.subtree_control'), want.map((c) => `+${c}`).join(' '));
    };
    // Our own directory at the top (root): the top must hand the controllers down to it. A delegated
    // directory has them from its delegation already.
    if (parent.endsWith(CGROUP_DIR_NAME)) await enable(join(parent, '..'));
    await enable(parent);
  }

  async create(name: string, limits: CgroupLimits): Promise<SandboxCgroup> {
    this.parentsReady ??= this.ensureParents();
    try {
      await this.parentsReady;
    } catch (err) {
      this.parentsReady = undefined;
      throw err;
    }
    const cpu = limits.cpus === undefined ? undefined : this.dirFor('cpu', name);
    const cgroup: SandboxCgroup = { version: this.layout.version, memory: this.dirFor('memory', name)!, pids: this.dirFor('pids', name)!, ...(cpu ? { cpu } : {}) };
    try {
      for (const dir of cgroupDirs(cgroup)) await mkdir(dir);
      const hasMemsw = this.layout.version === 1 ? await readFile(join(cgroup.memory, 'memory.memsw.limit_in_bytes')).then(() => true, () => false) : true;
      for (const write of limitWrites(this.layout.version, limits, hasMemsw)) {
        await writeFile(join(cgroup[write.controller]!, write.file), write.value);
      }
    } catch (err) {
      await this.remove(cgroup).catch(() => undefined);
      throw new Error(`cannot create the sandbox cgroup ${name}: ${(err as Error).message}`, { cause: err });
    }
    return cgroup;
  }

  /** Every process in the cgroup (the pids directory on v1, which every sandbox process joins). */
  async pids(cgroup: SandboxCgroup): Promise<number[]> {
    const text = await readOr(join(cgroup.pids, 'cgroup.procs'), '');
    return text.split('\n').filter(Boolean).map(Number);
  }

  /**
   * SIGKILL to every process, again until none is left (a fork between two reads is caught by the
   * next). `spare`: a process left alive (the launcher, once it is bwrap, which then reaps the
   * sandbox's pid 1 and exits by itself; killed with the rest, it would leave that pid 1 a zombie
   * for the host's init to reap, counted against the uid's RLIMIT_NPROC until then).
   */
  async kill(cgroup: SandboxCgroup, timeoutMs = 5000, spare?: number): Promise<void> {
    // cgroup.kill (v2, Linux 5.14+) kills atomically; the loop below is the rest of the kernels' way.
    if (cgroup.version === 2 && spare === undefined) await writeFile(join(cgroup.pids, 'cgroup.kill'), '1').catch(() => undefined);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const pids = (await this.pids(cgroup)).filter((pid) => pid !== spare);
      if (pids.length === 0) return;
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Gone between the read and the kill.
        }
      }
      if (Date.now() > deadline) throw new Error(`processes ${pids.join(', ')} of ${cgroup.pids} survive SIGKILL`);
      await sleep(10);
    }
  }

  /**
   * Kills what is left, then removes the directories; a cgroup already gone is not an error. A
   * killed process leaves its cgroup only once the kernel has torn it down, which for a tree of a
   * hundred processes on a loaded host takes seconds: the wait is bounded by time, not by tries.
   */
  async remove(cgroup: SandboxCgroup, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    await this.kill(cgroup, timeoutMs);
    for (const dir of cgroupDirs(cgroup)) {
      for (;;) {
        try {
          await rmdir(dir);
          break;
        } catch (err) {
          if (isCode(err, 'ENOENT')) break;
          // EBUSY: a killed process has not left the cgroup yet (kill again: one may have forked).
          if (!isCode(err, 'EBUSY') || Date.now() > deadline) throw new Error(`cannot remove cgroup ${dir} within ${timeoutMs} ms: ${(err as Error).message}`, { cause: err });
          await this.kill(cgroup, Math.max(0, deadline - Date.now()));
          await sleep(20);
        }
      }
    }
  }

  /**
   * Removes the sandbox cgroups (named like sandbox ids) that `held` does not claim, that hold no
   * process and that were made at least `minAgeMs` ago (a sandbox being started has its cgroup
   * before its processes): what daemons killed with SIGKILL left. Returns the names removed.
   */
  async sweepUnheld(held: (name: string) => boolean, minAgeMs: number): Promise<string[]> {
    const parents = this.layout.version === 2 ? [this.layout.parent] : Object.values(this.layout.parents).filter((p): p is string => p !== undefined);
    const names = new Set<string>();
    for (const parent of parents) for (const name of await readdir(parent).catch(() => [] as string[])) if (SANDBOX_ID.test(name) && !held(name)) names.add(name);
    const removed: string[] = [];
    for (const name of names) {
      const dirs = parents.map((parent) => join(parent, name));
      let abandoned = true;
      for (const dir of dirs) {
        const made = await stat(dir).then((st) => st.mtimeMs, () => undefined);
        if (made === undefined) continue;
        if (Date.now() - made < minAgeMs || (await readOr(join(dir, 'cgroup.procs'), 'unreadable')).trim() !== '') abandoned = false;
      }
      if (!abandoned) continue;
      for (const dir of dirs) await rmdir(dir).catch((err: unknown) => (isCode(err, 'ENOENT') ? undefined : Promise.reject(err)));
      removed.push(name);
    }
    return removed;
  }

  /** Whether the kernel's OOM killer killed a process of this sandbox. */
  async oomKilled(cgroup: SandboxCgroup): Promise<boolean> {
    const text = await readOr(join(cgroup.memory, cgroup.version === 1 ? 'memory.oom_control' : 'memory.events'), '');
    const m = /^oom_kill (\d+)$/m.exec(text);
    return m !== null && Number(m[1]) > 0;
  }

  /** How many forks the pids limit refused (a fork bomb's trace). */
  async pidsRefused(cgroup: SandboxCgroup): Promise<number> {
    const text = await readOr(join(cgroup.pids, 'pids.events'), '');
    const m = /^max (\d+)$/m.exec(text);
    return m ? Number(m[1]) : 0;
  }
}
