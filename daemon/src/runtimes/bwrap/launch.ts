// The command line of one bwrap sandbox, built by pure functions so that the exact flags can be
// tested: a launcher (sh, prlimit, setpriv from util-linux) that joins the sandbox's cgroups and
// drops to its uid, then bwrap with every namespace, a read-only root and the seccomp filter.

/** The fd the launcher is given beyond stdio: bwrap reads the seccomp program from it. */
export const SECCOMP_FD = 3;

/** The sandbox's whole environment: nothing from the daemon (the launcher itself gets only PATH). */
export const SANDBOX_ENV: Readonly<Record<string, string>> = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  HOME: '/tmp',
  LANG: 'C.UTF-8',
  PYTHONDONTWRITEBYTECODE: '1',
  PYTHONUNBUFFERED: '1',
};

/** What the launcher's own process gets: enough to find sh, prlimit, setpriv and bwrap. */
export const LAUNCHER_ENV: Readonly<Record<string, string>> = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' };

export interface BwrapArgsInput {
  /** The unpacked image; every directory on its path must let others through (see rootfsReachable). */
  rootfs: string;
  tmpfsBytes: number;
  /** The agent's argv inside the sandbox (python3 ...). */
  command: string[];
}

/**
 * bwrap's flags. Namespaces: user (uid/gid 65534 inside, no capability), pid, network (loopback
 * only), ipc, uts, mount, cgroup; nested user namespaces disabled on top of the seccomp refusal.
 * --as-pid-1: the command (packages/sandbox/init.py, see withInit) is pid 1, as docker-init is in a
 * container; bwrap's own reaper would be a process of bwrap inside the sandbox that ignores SIGTERM.
 * The root is the unpacked image, read-only; /proc, bwrap's minimal /dev (null, zero, full, random,
 * urandom, tty, pts; no host device beyond those), read-only like a container's, and sized tmpfs on
 * /tmp, /workspace and /dev/shm (their noexec is the agent's Landlock prelude).
 * --die-with-parent: a daemon that dies takes its sandboxes with it; --new-session: no terminal.
 */
export function bwrapArgs(input: BwrapArgsInput): string[] {
  if (!Number.isInteger(input.tmpfsBytes) || input.tmpfsBytes < 4096) throw new Error(`the sandbox tmpfs size must be a whole number of bytes of at least 4096 (MCP_BRIDGE_TMPFS_SIZE), got ${input.tmpfsBytes}`);
  if (input.command.length === 0) throw new Error('the sandbox command is empty');
  return [
    '--unshare-user',
    '--unshare-pid',
    '--as-pid-1',
    '--unshare-net',
    '--unshare-ipc',
    '--unshare-uts',
    '--unshare-cgroup',
    '--disable-userns',
    '--uid', '65534',
    '--gid', '65534',
    '--hostname', 'sandbox',
    '--ro-bind', input.rootfs, '/',
    '--proc', '/proc',
    '--dev', '/dev',
    '--size', String(input.tmpfsBytes), '--tmpfs', '/tmp',
    '--size', String(input.tmpfsBytes), '--tmpfs', '/workspace',
    // bwrap's /dev is a tmpfs of its own, with /dev/shm a plain directory of it: sized like the rest.
    '--size', String(input.tmpfsBytes), '--tmpfs', '/dev/shm',
    // bwrap's /dev tmpfs belongs to the sandbox uid: read-only after /dev/shm is on it (not recursive: /dev/shm stays writable).
    '--remount-ro', '/dev',
    '--chdir', '/',
    '--clearenv',
    ...Object.entries(SANDBOX_ENV).flatMap(([k, v]) => ['--setenv', k, v]),
    '--die-with-parent',
    '--new-session',
    '--seccomp', String(SECCOMP_FD),
    '--',
    ...input.command,
  ];
}

/**
 * Joins every cgroup named ($1 of them, then the cgroup.procs files) with its own pid, then execs
 * the rest: the process is in the sandbox's cgroups before it forks anything, and before it drops
 * privilege (a process of the sandbox uid may not write the cgroup files, so may not leave them).
 */
export const JOIN_CGROUPS_SCRIPT = 'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 125; shift; n=$((n - 1)); done; exec "$@"';

export interface LauncherInput {
  procsFiles: string[];
  /** Host uid and gid to run as; absent when the daemon is not root (bwrap then runs as the daemon's uid). */
  uid?: number | undefined;
  nofile: number;
  nproc: number;
  bwrap: string;
  bwrapArgs: string[];
}

/** argv of the launcher (argv[0] is /bin/sh). */
export function launcherArgv(input: LauncherInput): string[] {
  for (const [name, value, variable] of [['nofile', input.nofile, 'MCP_BRIDGE_NOFILE'], ['nproc', input.nproc, 'MCP_BRIDGE_NPROC']] as const) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`the sandbox ${name} limit must be a positive integer (${variable}), got ${value}`);
  }
  // RLIMIT_NPROC counts processes per real uid: with a uid of its own, it bounds this sandbox only.
  // On the daemon's uid (not root) it would count the user's every process, so there the pids
  // cgroup alone bounds the sandbox.
  const nproc = input.uid === undefined ? [] : [`--nproc=${input.nproc}:${input.nproc}`];
  const limits = ['prlimit', `--nofile=${input.nofile}:${input.nofile}`, ...nproc, '--core=0:0', '--'];
  // As root: a pid namespace of our own around bwrap, whose init (bwrap itself) takes everything in
  // it down with it, and whose zombies the kernel reaps. Without it, bwrap leaves its sandbox's pid 1
  // for the host's init to reap (bwrap exits on that pid 1's word, before it is reaped), a zombie of
  // the sandbox uid that counts against RLIMIT_NPROC of the next sandbox on that uid while it lasts.
  // `unshare` dies with the daemon (pdeathsig) and kills its child when it dies.
  const drop =
    input.uid === undefined
      ? []
      : [
          'setpriv', '--pdeathsig=KILL', '--',
          'unshare', '--pid', '--fork', '--kill-child=SIGKILL', '--',
          'setpriv', `--reuid=${input.uid}`, `--regid=${input.uid}`, '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', '--no-new-privs', '--',
        ];
  return ['/bin/sh', '-c', JOIN_CGROUPS_SCRIPT, 'sh', String(input.procsFiles.length), ...input.procsFiles, ...limits, ...drop, input.bwrap, ...input.bwrapArgs];
}

/**
 * The agent's command behind the sandbox's init (packages/sandbox/init.py): [python3, flags..., -c,
 * BOOTSTRAP, BUNDLE] becomes [python3, -I, -S, -c, INIT, python3, flags..., -c, BOOTSTRAP, BUNDLE].
 */
export function withInit(command: string[], init: string): string[] {
  if (command.length === 0) throw new Error('the agent command is empty');
  return [command[0]!, '-I', '-S', '-c', init, ...command];
}

/**
 * The agent's command with the Landlock prelude in front: [python3, flags..., -c, BOOTSTRAP, BUNDLE]
 * becomes [python3, flags..., -c, PRELUDE, BOOTSTRAP, BUNDLE].
 */
export function withNoexecPrelude(command: string[], prelude: string): string[] {
  const c = command.indexOf('-c');
  if (c === -1 || c + 1 >= command.length) throw new Error(`the agent command does not run a -c program: ${command.slice(0, 4).join(' ')} ...`);
  return [...command.slice(0, c + 1), prelude, ...command.slice(c + 1)];
}
