// The one narrow face of a sandbox runtime. The pool, the runs and the sessions see only this: a
// Docker container, a Podman container and a bubblewrap process tree are all a SandboxRuntime, and a
// new runtime (Kubernetes, later) is one new folder under runtimes/ that implements it.
import type { Readable, Writable } from 'node:stream';
import type { EnvConfig } from '@mcp-code-mode/protocol';
import type { Logger } from 'pino';

export type RuntimeKind = 'docker' | 'podman' | 'bwrap';

/**
 * A sandbox that is started, with the agent's stdio attached: the only state the pool ever holds.
 * Frames travel on stdin/stdout; stderr is the agent's own diagnostics (never user output).
 */
export interface StartedSandbox {
  /** Unique within the runtime; what remove() and diagnose() take. */
  readonly id: string;
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly stderr: Readable;
}

/** Why a sandbox's channel closed before its result came, as its runtime sees it. */
export type SandboxDeath =
  | { kind: 'oom' }
  | { kind: 'exited'; exitCode: number | null }
  /** The sandbox is gone: removed from outside while the code ran. */
  | { kind: 'removed' }
  /** The runtime does not answer, or the sandbox still runs: the connection broke, not the sandbox. */
  | { kind: 'lost' };

/** What `status`, `doctor`, `/status` and the metrics say of the runtime. */
export interface RuntimeInfo {
  kind: RuntimeKind;
  /** The engine's or tool's own name and version (`docker 20.10.24`, `bwrap 0.8.0`). */
  name: string;
  version: string;
  /** How it was found (`MCP_BRIDGE_RUNTIME`, `DOCKER_HOST`, `/var/run/docker.sock`, `PATH`). */
  via: string;
  /** The image or root filesystem the sandboxes run. */
  image: string;
  /** The OCI runtime the engine creates containers with, when one was asked for (runsc). */
  ociRuntime?: string;
}

/** One sandbox this runtime knows of, for sweeping leftovers. */
export interface SandboxRecord {
  id: string;
  /** The creation attempt that made it (see start()), when the runtime recorded one. */
  slot?: string;
  /** Whether it belongs to this daemon instance (else: to an earlier daemon on the same state directory). */
  ours: boolean;
}

export interface SandboxRuntime {
  readonly kind: RuntimeKind;
  info(): RuntimeInfo;
  /**
   * Creates and starts one sandbox running the agent, its stdio attached. `slot` names this creation
   * attempt so that a sweep can tell a sandbox still being created from a leftover.
   */
  start(slot: string, signal?: AbortSignal): Promise<StartedSandbox>;
  /** Kills and removes a sandbox and everything it left (container, cgroup, processes); gone is not an error. */
  remove(id: string): Promise<void>;
  /** Why the channel of this sandbox closed before its result (called once the channel has closed). */
  diagnose(id: string): Promise<SandboxDeath>;
  /** Every sandbox of this state directory the runtime still has, this daemon's and earlier ones'. */
  list(): Promise<SandboxRecord[]>;
  /** Releases what the runtime holds (connections, cached handles); sandboxes are removed by their owners first. */
  close(): Promise<void>;
  /**
   * Present on a runtime whose sandboxes can fail to start for reasons of the host (bwrap: a kernel
   * without Landlock, a cgroup that refuses a write): the daemon waits for its pool's first sandbox
   * before it says ready, and when that one fails, runs this for the reason (the sandbox's stderr),
   * which it throws.
   */
  selfTest?(): Promise<unknown>;
}

/**
 * The runtime cannot start or reach sandboxes (the engine is down, bwrap failed): the control API
 * answers `engine_unavailable`. Each runtime wraps its own failures in it once, with `cause`.
 */
export class RuntimeUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RuntimeUnavailableError';
  }
}

/** What opening a runtime takes, whichever it is (see runtimes/select.ts). */
export interface OpenRuntimeOptions {
  config: EnvConfig;
  /** DOCKER_HOST, XDG_RUNTIME_DIR, XDG_CACHE_HOME, HOME, PATH: what detection and the builders may read. */
  env: Record<string, string | undefined>;
  /** Whether MCP_BRIDGE_IMAGE was set by the user. */
  imageExplicit: boolean;
  /** Where relative MCP_BRIDGE_PIP_* paths are read from. */
  cwd: string;
  /** The state directory (records, the Podman seccomp profile) and its owner label. */
  stateDir: string;
  owner: string;
  daemonId: string;
  /** The agent's command line (python3 + bootstrap + bundle). */
  command: string[];
  log: Logger;
  onProgress: (line: string) => void;
}
