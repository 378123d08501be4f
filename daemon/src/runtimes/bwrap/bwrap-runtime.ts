// Sandboxes with no container engine: one bubblewrap process tree each, its agent on the child's
// own pipes (no attach proxy). Isolation equals the container defaults (see docs/SECURITY.md, "The
// bwrap runtime"): namespaces, a read-only root, sized tmpfs made non-executable by Landlock, no
// capabilities, no_new_privs, the seccomp filter, cgroup limits, and never host uid 0.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Logger } from 'pino';
import type { RuntimeInfo, SandboxDeath, SandboxRecord, SandboxRuntime, StartedSandbox } from '../runtime.js';
import { cgroupDirs, cgroupProcsFiles, Cgroups, type CgroupLimits, type SandboxCgroup } from './cgroups.js';
import { bwrapArgs, LAUNCHER_ENV, launcherArgv, SECCOMP_FD } from './launch.js';
import { AGENT_CODE_PREFIX, rootfsReachable } from './rootfs.js';
import { RecordStore, SANDBOX_ID, type SandboxRecordFile } from './records.js';
import { encodeFilter, sandboxFilter } from './seccomp-bpf.js';
import { FrameDecoder } from '../../wire/frames.js';
import { processUids, UidClaims } from './uid-claims.js';

export interface BwrapLimits extends CgroupLimits {
  tmpfsBytes: number;
  nofile: number;
  nproc: number;
}

/** What the probe found (see probeBwrap); the runtime trusts it. */
export interface BwrapHost {
  bwrap: string;
  version: string;
  via: string;
  /** Sandbox cgroups; absent only when limits were opted out of (MCP_BRIDGE_BWRAP_ALLOW_UNLIMITED=1). */
  cgroups?: Cgroups | undefined;
  /** Present when the daemon is root: every sandbox then runs as a uid of its own. */
  uids?: UidClaims | undefined;
}

export interface BwrapRuntimeOptions {
  /** The unpacked sandbox root fs (see ensureRootfs). */
  rootfs: string;
  /** What info() names as the image. */
  image: string;
  /** The agent's argv inside the sandbox, with the Landlock prelude (see bwrapAgentCommand). */
  agentCommand: string[];
  /**
   * packages/sandbox/precompile.py's argv inside a sandbox (see bwrapPrecompile), and the
   * bundle it compiles (the bootstrap's argument): see precompile(). Absent: every sandbox compiles.
   * `cacheDir`: where the compiled agent is kept for the next daemon on the same root fs (see
   * agentCodeCacheFile); absent: each daemon compiles it once.
   */
  precompile?: { command: string[]; bundle: string; cacheDir?: string | undefined } | undefined;
  limits: BwrapLimits;
  /** The daemon's state directory; records go to <stateDir>/bwrap. */
  stateDir: string;
  /** The state directory's owner id, and this daemon instance's id (as the container labels). */
  owner: string;
  daemon: string;
  log: Logger;
}

interface Live {
  child: ChildProcess;
  record: SandboxRecordFile;
  exited: Promise<number | null>;
  removing?: Promise<void>;
  /** The end of its stderr: bwrap's and the Landlock prelude's refusals are written there. */
  stderrTail: string;
}

const STDERR_TAIL = 2000;
/** The fd on which a sandbox's bootstrap reads the precompiled agent (--code-fd), beside the seccomp program on 3. */
export const CODE_FD = 4;
/** precompile.py's output is ~0.3 MB; anything near this is not it. */
const MAX_CODE_BYTES = 16 * 1024 * 1024;

/** precompile.py's output, by its header (the bootstrap checks the rest: the bundle's checksum and its Python). */
function looksCompiled(data: Buffer): boolean {
  return data.length <= MAX_CODE_BYTES && data.subarray(0, 17).toString('latin1') === 'mcp-agent-code 1 ' && data.indexOf(10) > 17;
}

/**
 * The cache file of the agent compiled for `rootfs` (named by its image id, so by its Python) from
 * this bundle and precompile command: any change of either is another name. Beside the root fs
 * trees in the cache; ensureRootfs's prune removes it with its tree.
 */
export function agentCodeCacheFile(cacheDir: string, rootfs: string, spec: { command: string[]; bundle: string }): string {
  const key = createHash('sha256').update(JSON.stringify([spec.command, spec.bundle])).digest('hex').slice(0, 16);
  return join(cacheDir, `${AGENT_CODE_PREFIX}${basename(rootfs)}-${key}`);
}

/** Written whole or not at all (a rename), private to the daemon's user; older files for the same root fs go. */
async function keepAgentCode(file: string, data: Buffer): Promise<void> {
  const dir = dirname(file);
  const aside = join(dir, `.${basename(file)}-${randomBytes(6).toString('hex')}`);
  try {
    await writeFile(aside, data, { mode: 0o600 });
    await rename(aside, file);
  } finally {
    await rm(aside, { force: true });
  }
  const rootfsPart = basename(file).slice(0, basename(file).lastIndexOf('-') + 1);
  for (const name of await readdir(dir)) {
    if (name.startsWith(rootfsPart) && name !== basename(file)) await rm(join(dir, name), { force: true });
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const signalNumbers: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGTERM: 15 };

export class BwrapRuntime implements SandboxRuntime {
  readonly kind = 'bwrap' as const;
  private readonly records: RecordStore;
  private readonly live = new Map<string, Live>();
  /** Ids removed by remove(): their death is 'removed' whatever their exit looked like. */
  private readonly removed = new Set<string>();
  private readonly filter = encodeFilter(sandboxFilter());
  private reachable?: Promise<void>;
  /** The agent compiled by the sandbox's Python (precompile.py's output), once precompile() has it. */
  private code?: Buffer;
  private precompiling?: Promise<boolean>;
  /** Sandboxes of the runtime's own (precompile, self-test): no pool owns them, so list() leaves them out while they live. */
  private readonly internal = new Set<string>();

  constructor(
    private readonly options: BwrapRuntimeOptions,
    private readonly host: BwrapHost,
  ) {
    this.records = new RecordStore(join(options.stateDir, 'bwrap'));
  }

  info(): RuntimeInfo {
    return { kind: 'bwrap', name: 'bwrap', version: this.host.version, via: this.host.via, image: `${this.options.image} (${this.options.rootfs})` };
  }

  start(slot: string, signal?: AbortSignal): Promise<StartedSandbox> {
    const code = this.code;
    return this.launch(slot, code ? [...this.options.agentCommand, `--code-fd=${CODE_FD}`] : this.options.agentCommand, code, signal);
  }

  /**
   * Compiles the agent once with the sandbox image's own Python, in a sandbox like the others (no
   * user code ever runs in it), so that every later sandbox's bootstrap reads the code objects on
   * CODE_FD instead of compiling ~4000 lines at its start (~30 ms of CPU each). Resolves false, and
   * sandboxes go on compiling, when it fails. Called once; later calls return the first one's outcome.
   */
  precompile(): Promise<boolean> {
    this.precompiling ??= this.runPrecompile().catch((err: unknown) => {
      this.options.log.warn({ err }, `the agent could not be precompiled (${(err as Error).message}): each sandbox compiles it at its start`);
      return false;
    });
    return this.precompiling;
  }

  private async runPrecompile(): Promise<boolean> {
    const spec = this.options.precompile;
    if (!spec) return false;
    const t0 = performance.now();
    const cacheFile = spec.cacheDir !== undefined ? agentCodeCacheFile(spec.cacheDir, this.options.rootfs, spec) : undefined;
    if (cacheFile) {
      const cached = await readFile(cacheFile).catch(() => undefined);
      if (cached && looksCompiled(cached)) {
        this.code = cached;
        this.options.log.info({ bytes: cached.length, ms: Math.round(performance.now() - t0), file: cacheFile }, 'agent precompiled for the sandboxes (from the cache)');
        return true;
      }
    }
    const sandbox = await this.launch('precompile', spec.command, undefined, undefined, true);
    let timer: NodeJS.Timeout | undefined;
    try {
      const chunks: Buffer[] = [];
      let bytes = 0;
      const output = new Promise<Buffer>((resolve, reject) => {
        sandbox.stdout.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes > MAX_CODE_BYTES) reject(new Error(`the precompiled agent is over ${MAX_CODE_BYTES} bytes`));
          else chunks.push(chunk);
        });
        sandbox.stdout.once('end', () => resolve(Buffer.concat(chunks)));
        sandbox.stdout.once('error', reject);
      });
      sandbox.stdin.on('error', () => undefined);
      sandbox.stdin.end(spec.bundle);
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('precompile.py did not finish within 30 s')), 30_000);
      });
      const live = this.live.get(sandbox.id)!;
      const data = await Promise.race([output, timeout]);
      const code = await Promise.race([live.exited, timeout]);
      const header = data.subarray(0, Math.max(0, data.indexOf(10))).toString('utf8');
      if (code !== 0 || !looksCompiled(data)) {
        throw new Error(`precompile.py exited with ${code}: ${live.stderrTail.trim() || header.slice(0, 200) || 'no output'}`);
      }
      this.code = data;
      this.options.log.info({ bytes: data.length, ms: Math.round(performance.now() - t0), python: header.split(' ').slice(4).join(' ') }, 'agent precompiled for the sandboxes');
      if (cacheFile) await keepAgentCode(cacheFile, data).catch((err: unknown) => this.options.log.warn({ err, file: cacheFile }, 'the compiled agent could not be kept in the cache: the next daemon compiles it again'));
      return true;
    } finally {
      clearTimeout(timer);
      await this.remove(sandbox.id);
    }
  }

  private async launch(slot: string, command: string[], code: Buffer | undefined, signal?: AbortSignal, internal = false): Promise<StartedSandbox> {
    signal?.throwIfAborted();
    const id = `bw-${randomBytes(6).toString('hex')}`;
    const record: SandboxRecordFile = { id, owner: this.options.owner, daemon: this.options.daemon, slot, createdAt: Date.now() };
    if (internal) this.internal.add(id);
    try {
      this.reachable ??= rootfsReachable(this.options.rootfs);
      await this.reachable;
      // The record first, then each thing it names: whatever of this sandbox exists, a sweep finds.
      await this.records.write(record);
      if (this.host.uids) {
        record.uid = await this.host.uids.claim(id);
        await this.records.write(record);
      }
      if (this.host.cgroups) {
        record.cgroup = await this.host.cgroups.create(id, this.options.limits);
        await this.records.write(record);
      }
      signal?.throwIfAborted();
      const argv = launcherArgv({
        procsFiles: record.cgroup ? cgroupProcsFiles(record.cgroup) : [],
        uid: record.uid,
        nofile: this.options.limits.nofile,
        nproc: this.options.limits.nproc,
        bwrap: this.host.bwrap,
        bwrapArgs: bwrapArgs({ rootfs: this.options.rootfs, tmpfsBytes: this.options.limits.tmpfsBytes, command }),
      });
      const child = spawn(argv[0]!, argv.slice(1), { stdio: Array<'pipe'>(code ? CODE_FD + 1 : SECCOMP_FD + 1).fill('pipe'), env: { ...LAUNCHER_ENV } });
      const exited = new Promise<number | null>((resolve) => {
        child.once('exit', (code, sig) => resolve(code ?? (sig ? 128 + (signalNumbers[sig] ?? 0) : null)));
        child.once('error', (err) => {
          this.options.log.error({ err, sandbox: id }, 'cannot spawn the bwrap launcher');
          resolve(null);
        });
      });
      // What the sandbox reads beyond stdio: bwrap the seccomp program on SECCOMP_FD, the bootstrap
      // the precompiled agent on CODE_FD (to its end, before anything else). A sandbox that dies first breaks the pipe.
      const fds: [number, Uint8Array][] = code ? [[SECCOMP_FD, this.filter], [CODE_FD, code]] : [[SECCOMP_FD, this.filter]];
      for (const [fd, data] of fds) {
        const stream = child.stdio[fd] as NodeJS.WritableStream & { on(e: 'error', f: (err: Error) => void): unknown };
        stream.on('error', () => undefined);
        stream.end(data);
      }
      if (child.pid !== undefined) {
        record.pid = child.pid;
        await this.records.write(record);
      }
      const live: Live = { child, record, exited, stderrTail: '' };
      child.stderr!.on('data', (chunk: Buffer) => (live.stderrTail = (live.stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL)));
      // A sandbox that fails on its own says why on stderr (bwrap, or the prelude: no Landlock);
      // the pool only sees a channel that closed.
      void exited.then((code) => {
        if (code !== 0 && !this.removed.has(id)) this.options.log.warn({ sandbox: id, exitCode: code, stderr: live.stderrTail.trim() }, 'bwrap sandbox exited');
      });
      this.live.set(id, live);
      this.options.log.debug({ sandbox: id, slot, uid: record.uid, pid: child.pid }, 'bwrap sandbox started');
      return { id, stdin: child.stdin!, stdout: child.stdout!, stderr: child.stderr! };
    } catch (err) {
      this.internal.delete(id);
      await this.cleanUp(record).catch((cleanupErr: unknown) => this.options.log.warn({ err: cleanupErr, sandbox: id }, 'cannot clean up a sandbox that failed to start'));
      throw new Error(`cannot start a bwrap sandbox: ${(err as Error).message}`, { cause: err });
    }
  }

  async remove(id: string): Promise<void> {
    // Ids name files and cgroups: one not of ours is no sandbox of ours (and never a path).
    if (!SANDBOX_ID.test(id)) return;
    this.removed.add(id);
    // Bounded: diagnose() is asked about a sandbox just after its channel closed, never long after.
    if (this.removed.size > 1000) this.removed.delete(this.removed.values().next().value!);
    const live = this.live.get(id);
    if (live) {
      live.removing ??= (async () => {
        const cgroup = live.record.cgroup as SandboxCgroup | undefined;
        const pid = live.child.pid;
        // The tree first, the launcher (our child) last: it reaps bwrap and exits, and we reap it.
        if (cgroup && this.host.cgroups && pid !== undefined) await this.host.cgroups.kill(cgroup, 5000, pid);
        else if (pid !== undefined) {
          // No cgroup: what the launcher runs dies with it (unshare --kill-child, bwrap --die-with-parent), and the kernel kills the rest of its pid namespaces.
          live.child.kill('SIGKILL');
        }
        if ((await Promise.race([live.exited.then(() => true), sleep(2000).then(() => false)])) === false) live.child.kill('SIGKILL');
        await Promise.race([live.exited, sleep(2000)]);
        await this.cleanUp(live.record);
        this.live.delete(id);
        this.internal.delete(id);
      })().catch((err: unknown) => {
        // Not kept: the janitor's next pass (remove() again) retries what is left of it.
        live.removing = undefined;
        throw err;
      });
      return live.removing;
    }
    const record = await this.records.read(id);
    if (record) await this.cleanUp(record);
  }

  /**
   * What daemons killed with SIGKILL left that no daemon would remove (the next daemon on the same
   * state directory does, from its records; a state directory never opened again keeps them): uid
   * claims whose daemon is gone and whose uid no process uses, and the empty sandbox cgroups that
   * no claim holds, older than `minAgeMs`. Only for a root daemon, whose sandboxes all have claims.
   */
  async sweepAbandoned(minAgeMs = 60_000): Promise<{ uids: number[]; cgroups: string[] }> {
    const { uids, cgroups } = this.host;
    if (!uids || !cgroups) return { uids: [], cgroups: [] };
    const freed = await uids.reclaimAbandoned();
    const held = await uids.heldSandboxes();
    return { uids: freed, cgroups: await cgroups.sweepUnheld((name) => held.has(name), minAgeMs) };
  }

  /**
   * Kills every process of the sandbox and removes what it had: the cgroups, the record, the uid
   * claim. Without cgroups (limits opted out), the processes are found by the sandbox's uid.
   */
  private async cleanUp(record: SandboxRecordFile): Promise<void> {
    if (record.cgroup && this.host.cgroups) await this.host.cgroups.remove(record.cgroup as SandboxCgroup);
    else if (record.uid !== undefined) await killUid(record.uid);
    if (record.uid !== undefined) await this.host.uids?.release(record.uid, record.id);
    else await this.host.uids?.releaseSandbox(record.id);
    await this.records.remove(record.id);
  }

  async diagnose(id: string, settleMs = 500): Promise<SandboxDeath> {
    const live = this.live.get(id);
    if (this.removed.has(id) || !live) return { kind: 'removed' };
    const code = await Promise.race([live.exited, sleep(settleMs).then(() => 'running' as const)]);
    if (code === 'running') return { kind: 'lost' };
    const cgroup = live.record.cgroup as SandboxCgroup | undefined;
    if (cgroup && this.host.cgroups && (await this.host.cgroups.oomKilled(cgroup))) return { kind: 'oom' };
    return { kind: 'exited', exitCode: code };
  }

  async list(): Promise<SandboxRecord[]> {
    const records = await this.records.all((file, reason) => this.options.log.warn({ file, reason }, 'removed an unreadable bwrap sandbox record'));
    // A live sandbox whose record is gone (the state directory was deleted under the daemon) gets it
    // back: without it a daemon killed later would leave that sandbox to nobody. The pool's janitor
    // lists every few seconds, so the records come back within one pass.
    const present = new Set(records.map((r) => r.id));
    const lost = [...this.live.values()].filter((l) => !present.has(l.record.id) && !l.removing && !this.removed.has(l.record.id));
    for (const l of lost) {
      await this.records.write(l.record);
      records.push(l.record);
    }
    if (lost.length > 0) this.options.log.warn({ count: lost.length, dir: this.records.dir }, 'wrote again the records of live bwrap sandboxes that were deleted');
    return records.filter((r) => !this.internal.has(r.id)).map((r) => ({ id: r.id, slot: r.slot, ours: r.daemon === this.options.daemon }));
  }

  async close(): Promise<void> {
    await this.precompiling;
    this.removed.clear();
  }

  /**
   * Starts one sandbox and waits for its agent's `ready`, then removes it: what doctor and a daemon's
   * start can run to turn a sandbox that cannot start into a message (bwrap's or the prelude's own).
   */
  async selfTest(timeoutMs = 20_000): Promise<{ readyMs: number }> {
    const t0 = performance.now();
    const sandbox = await this.launch('self-test', this.options.agentCommand, undefined, undefined, true);
    try {
      await new Promise<void>((resolve, reject) => {
        const decoder = new FrameDecoder();
        const timer = setTimeout(() => reject(new Error(`the agent did not say ready within ${timeoutMs} ms`)), timeoutMs);
        sandbox.stdout.on('data', (chunk: Buffer) => {
          if (decoder.push(chunk).some((item) => item.kind === 'frame' && (item.value as { type?: unknown }).type === 'ready')) {
            clearTimeout(timer);
            resolve();
          }
        });
        sandbox.stdout.once('close', () => {
          clearTimeout(timer);
          reject(new Error('the sandbox exited before its agent was ready'));
        });
      });
      return { readyMs: performance.now() - t0 };
    } catch (err) {
      const live = this.live.get(sandbox.id);
      const code = live ? await Promise.race([live.exited, sleep(500).then(() => undefined)]) : undefined;
      const cgroup = live?.record.cgroup as SandboxCgroup | undefined;
      const oom = cgroup !== undefined && this.host.cgroups !== undefined && (await this.host.cgroups.oomKilled(cgroup).catch(() => false));
      const how = oom
        ? ` (killed by the memory limit, MCP_BRIDGE_MEMORY=${this.options.limits.memoryBytes} bytes: raise it)`
        : typeof code === 'number'
          ? ` (exit code ${code})`
          : '';
      throw new Error(`a bwrap sandbox does not start: ${(err as Error).message}${how}: ${live?.stderrTail.trim() || 'no output'}`, { cause: err });
    } finally {
      await this.remove(sandbox.id);
    }
  }

  /** What the host holds for a live sandbox: its uid, cgroup directories, launcher pid (for tests and doctor). */
  resources(id: string): { uid?: number | undefined; cgroups: string[]; pid?: number | undefined } | undefined {
    const record = this.live.get(id)?.record;
    if (!record) return undefined;
    return { uid: record.uid, cgroups: record.cgroup ? cgroupDirs(record.cgroup as SandboxCgroup) : [], pid: record.pid };
  }
}

/** SIGKILL to every process of a host uid until none is left (the sandbox uid runs nothing else). */
export async function killUid(uid: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pids = (await processUids()).filter((row) => row.real === uid).map((row) => row.pid);
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
    if (Date.now() > deadline) throw new Error(`processes ${pids.join(', ')} of uid ${uid} survive SIGKILL`);
    await sleep(10);
  }
}
