// Whether bwrap sandboxes can run here with the container defaults, found before the first one
// starts: each refusal says what to do (and doctor can print the same sentence).
import { execFile } from 'node:child_process';
import { access, constants, readFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import type { BwrapHost } from './bwrap-runtime.js';
import { Cgroups, detectCgroupLayout } from './cgroups.js';
import { hostSupportsFilter } from './seccomp-bpf.js';
import { DEFAULT_CLAIM_DIR, DEFAULT_UID_RANGE, overlappingSubids, UidClaims, type UidRange } from './uid-claims.js';

const execFileP = promisify(execFile);

/** bwrap cannot give the sandbox its isolation or limits here; the message says what to do. */
export class BwrapUnusableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BwrapUnusableError';
  }
}

export interface BwrapProbeOptions {
  stateDir: string;
  /** bwrap's path; else found on PATH. */
  bwrap?: string | undefined;
  path?: string;
  uidRange?: UidRange;
  uidClaimDir?: string;
  /** A delegated cgroup v2 directory, for a daemon that is not root (MCP_BRIDGE_BWRAP_CGROUP). */
  delegatedCgroup?: string | undefined;
  /** Run without memory, pids and CPU limits where cgroups cannot be used (MCP_BRIDGE_BWRAP_ALLOW_UNLIMITED=1). */
  allowUnlimited?: boolean;
  needCpu: boolean;
  warn?: (message: string) => void;
  /** Reads a host file (/proc, /sys, /etc), undefined when it cannot; tests give other hosts. */
  readHostFile?: (path: string) => Promise<string | undefined>;
}

async function findOnPath(name: string, path: string): Promise<string | undefined> {
  for (const dir of path.split(delimiter).filter(Boolean)) {
    const candidate = join(dir, name);
    if (await access(candidate, constants.X_OK).then(() => true, () => false)) return candidate;
  }
  return undefined;
}

const readOrUndefined = (path: string): Promise<string | undefined> => readFile(path, 'utf8').catch(() => undefined);

export async function probeBwrap(options: BwrapProbeOptions): Promise<BwrapHost> {
  const readOr = options.readHostFile ?? readOrUndefined;
  if (process.platform !== 'linux') throw new BwrapUnusableError('the bwrap runtime needs Linux; use MCP_BRIDGE_RUNTIME=docker or podman');
  if (!hostSupportsFilter()) throw new BwrapUnusableError(`the bwrap runtime's seccomp filter is built for x86_64, and this is ${process.arch}; use MCP_BRIDGE_RUNTIME=docker or podman`);
  const path = options.path ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
  const bwrap = options.bwrap ?? (await findOnPath('bwrap', path));
  if (!bwrap) throw new BwrapUnusableError('bwrap is not installed; install it (Debian/Ubuntu: apt-get install -y bubblewrap) or use MCP_BRIDGE_RUNTIME=docker or podman');
  for (const tool of ['setpriv', 'prlimit', 'unshare']) {
    if (!(await findOnPath(tool, path))) throw new BwrapUnusableError(`${tool} (util-linux) is not installed; install util-linux`);
  }
  let version: string;
  try {
    const { stdout } = await execFileP(bwrap, ['--version'], { timeout: 10_000 });
    version = /(\d+\.\d+(?:\.\d+)?)/.exec(stdout)?.[1] ?? stdout.trim();
  } catch (err) {
    throw new BwrapUnusableError(`${bwrap} --version failed: ${(err as Error).message}`);
  }
  const maxUserNs = await readOr('/proc/sys/user/max_user_namespaces');
  if (maxUserNs !== undefined && Number(maxUserNs) === 0) {
    throw new BwrapUnusableError('user namespaces are disabled (user.max_user_namespaces is 0); enable them: sysctl -w user.max_user_namespaces=15000');
  }
  const lsm = await readOr('/sys/kernel/security/lsm');
  if (lsm !== undefined && !lsm.split(',').includes('landlock')) {
    throw new BwrapUnusableError(`Landlock is not enabled in this kernel (active LSMs: ${lsm.trim()}); the bwrap runtime needs it to make /tmp and /workspace non-executable: boot with lsm=landlock,... or use docker or podman`);
  }

  // Never an option: a daemon told it is not root while it is would run sandboxes as host uid 0.
  const isRoot = process.getuid?.() === 0;
  const layout = await detectCgroupLayout({
    mountinfo: (await readOr('/proc/self/mountinfo')) ?? '',
    procCgroup: (await readOr('/proc/self/cgroup')) ?? '',
    v2Controllers: (dir) => readOr(join(dir, 'cgroup.controllers')),
    isRoot,
    delegated: options.delegatedCgroup,
    needCpu: options.needCpu,
  });
  let cgroups: Cgroups | undefined;
  if ('unusable' in layout) {
    if (!options.allowUnlimited) {
      throw new BwrapUnusableError(`bwrap sandboxes cannot get their memory, pids and CPU limits: ${layout.unusable}; or set MCP_BRIDGE_BWRAP_ALLOW_UNLIMITED=1 to run them without limits`);
    }
    options.warn?.(`bwrap sandboxes run WITHOUT memory, pids and CPU limits (MCP_BRIDGE_BWRAP_ALLOW_UNLIMITED=1): ${layout.unusable}`);
  } else cgroups = new Cgroups(layout);

  let uids: UidClaims | undefined;
  if (isRoot) {
    const range = options.uidRange ?? DEFAULT_UID_RANGE;
    for (const file of ['/etc/subuid', '/etc/subgid']) {
      const overlaps = overlappingSubids(range, (await readOr(file)) ?? '');
      if (overlaps.length > 0) {
        throw new BwrapUnusableError(`the sandbox uid range ${range.base}-${range.base + range.count - 1} overlaps ${file} (${overlaps.join(', ')}); move it with MCP_BRIDGE_BWRAP_UID_BASE`);
      }
    }
    uids = new UidClaims(range, options.stateDir, options.uidClaimDir ?? DEFAULT_CLAIM_DIR);
  }
  return { bwrap, version, via: options.bwrap ? 'MCP_BRIDGE_BWRAP' : 'PATH', cgroups, uids };
}
