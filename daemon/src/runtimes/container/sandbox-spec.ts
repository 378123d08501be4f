/** The sandbox limits, already validated (see EnvConfigSchema). */
export interface SandboxLimits {
  image: string;
  user: string;
  memoryBytes: number;
  pids: number;
  cpus?: number | undefined;
  tmpfsBytes: number;
  nofile: number;
  nproc: number;
  /** The value of `seccomp=` in SecurityOpt (the profile JSON for Docker, a file path for Podman); absent: the engine's default. */
  seccomp?: string | undefined;
  /** The engine's OCI runtime (`runsc` for gVisor); absent: the engine's default (runc). */
  ociRuntime?: string | undefined;
}

/** What the engine is asked to create; a plain value so the exact flags can be tested. */
export interface SandboxSpec {
  Image: string;
  Cmd: string[];
  User: string;
  WorkingDir: string;
  Env: string[];
  Labels: Record<string, string>;
  Hostname: string;
  AttachStdin: true;
  AttachStdout: true;
  AttachStderr: true;
  OpenStdin: true;
  StdinOnce: true;
  Tty: false;
  NetworkDisabled: true;
  HostConfig: {
    NetworkMode: 'none';
    ReadonlyRootfs: true;
    Tmpfs: Record<string, string>;
    CapDrop: ['ALL'];
    SecurityOpt: string[];
    Memory: number;
    MemorySwap: number;
    PidsLimit: number;
    NanoCpus?: number;
    Ulimits: { Name: string; Soft: number; Hard: number }[];
    Init: true;
    AutoRemove: false;
    IpcMode: 'private';
    Runtime?: string;
  };
}

export const LABEL_APP = 'mcp-code-mode';
export const LABEL_OWNER = 'mcp-code-mode.owner';
export const LABEL_DAEMON = 'mcp-code-mode.daemon';
/** Names the one creation attempt that made a container, so a sweep can tell it from a leftover. */
export const LABEL_SLOT = 'mcp-code-mode.slot';

/**
 * Builds the hardened container spec. Every sandbox default of docs/SECURITY.md is here: no network, read-only root,
 * small noexec tmpfs mounts, no capabilities, no privilege gain, an unprivileged user, memory with
 * no extra swap, a pids cap, optional CPUs, explicit ulimits, an init process. No host path is
 * mounted and the environment carries nothing from the host.
 */
export function buildSandboxSpec(limits: SandboxLimits, cmd: string[], labels: Record<string, string>): SandboxSpec {
  const tmpfs = `rw,noexec,nosuid,nodev,size=${limits.tmpfsBytes}`;
  const closed = 'ro,noexec,nosuid,nodev,size=1048576';
  return {
    Image: limits.image,
    Cmd: cmd,
    User: limits.user,
    // Not /workspace: Docker re-creates the working directory as 0755 root after mounting the tmpfs
    // there, which leaves /workspace unwritable for the sandbox user. The agent changes into it.
    WorkingDir: '/',
    Env: ['HOME=/tmp', 'PYTHONDONTWRITEBYTECODE=1', 'PYTHONUNBUFFERED=1', 'LANG=C.UTF-8'],
    Labels: { [LABEL_APP]: '1', ...labels },
    Hostname: 'sandbox',
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    OpenStdin: true,
    StdinOnce: true,
    Tty: false,
    NetworkDisabled: true,
    HostConfig: {
      NetworkMode: 'none',
      ReadonlyRootfs: true,
      // /run and /var/tmp: Podman mounts a writable, executable tmpfs on each for a read-only root
      // unless the spec mounts its own; these keep them read-only, as the root is, on both engines.
      Tmpfs: { '/tmp': `${tmpfs},mode=1777`, '/workspace': `${tmpfs},mode=1777`, '/run': `${closed},mode=755`, '/var/tmp': `${closed},mode=755` },
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges', ...(limits.seccomp !== undefined ? [`seccomp=${limits.seccomp}`] : [])],
      Memory: limits.memoryBytes,
      MemorySwap: limits.memoryBytes,
      PidsLimit: limits.pids,
      ...(limits.cpus !== undefined ? { NanoCpus: Math.round(limits.cpus * 1e9) } : {}),
      Ulimits: [
        { Name: 'nofile', Soft: limits.nofile, Hard: limits.nofile },
        { Name: 'nproc', Soft: limits.nproc, Hard: limits.nproc },
      ],
      Init: true,
      AutoRemove: false,
      IpcMode: 'private',
      ...(limits.ociRuntime !== undefined ? { Runtime: limits.ociRuntime } : {}),
    },
  };
}
