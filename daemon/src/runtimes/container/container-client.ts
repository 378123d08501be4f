import { createHash, randomUUID } from 'node:crypto';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import Docker from 'dockerode';
import type { EngineEndpoint } from './detect.js';
import { RuntimeUnavailableError, type StartedSandbox } from '../runtime.js';
import type { SandboxSpec } from './sandbox-spec.js';

/** A container that is created, started and attached: a started sandbox, as the pool sees it. */
export type AttachedContainer = StartedSandbox;

export interface ContainerSummary {
  id: string;
  labels: Record<string, string>;
  state: string;
}

export interface ContainerState {
  running: boolean;
  oomKilled: boolean;
  exitCode: number | null;
  /** The engine's word for the state ('running', 'exited', 'removing', ...), when it gives one. */
  status?: string;
}

export interface EngineVersion {
  name: string;
  version: string;
  apiVersion: string;
}

/** The narrow face of the container engine that the rest of the daemon uses. */
export interface ContainerClient {
  readonly endpoint: EngineEndpoint;
  ping(): Promise<void>;
  version(): Promise<EngineVersion>;
  /** The OCI runtimes the engine can create containers with (`docker info`'s Runtimes). */
  runtimes(): Promise<string[]>;
  startAttached(spec: SandboxSpec): Promise<AttachedContainer>;
  /** Kills and removes; a container that is already gone is not an error. */
  remove(id: string): Promise<void>;
  list(labels: Record<string, string>): Promise<ContainerSummary[]>;
  state(id: string): Promise<ContainerState | undefined>;
  imageLabels(ref: string): Promise<Record<string, string> | undefined>;
  pull(ref: string, onProgress: (line: string) => void): Promise<void>;
}

/** Every engine failure, wrapped once, with the engine's own error as `cause`. */
export class EngineError extends RuntimeUnavailableError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EngineError';
  }
}

function statusOf(err: unknown): number | undefined {
  return typeof err === 'object' && err !== null && 'statusCode' in err ? Number((err as { statusCode: unknown }).statusCode) : undefined;
}

/**
 * The container no longer exists: 404, or Podman's 500 "... does not exist in database: no such
 * container", which it answers for a container whose removal is under way.
 */
function containerGone(err: unknown): boolean {
  return statusOf(err) === 404 || (statusOf(err) === 500 && /no such container/i.test(reason(err)));
}

function reason(err: unknown): string {
  if (err instanceof Error) {
    const json = (err as { json?: { message?: string } }).json;
    return json?.message ?? err.message;
  }
  return String(err);
}

export interface DockerodeClientOptions {
  /** Where Podman's seccomp profile files are written (Podman reads a path, Docker the profile itself). */
  profileDir?: string;
}

/** The one class that talks to dockerode. */
export class DockerodeClient implements ContainerClient {
  private readonly docker: Docker;
  private engineName?: Promise<string>;

  constructor(readonly endpoint: EngineEndpoint, private readonly options: DockerodeClientOptions = {}) {
    this.docker = new Docker(
      endpoint.socketPath
        ? { socketPath: endpoint.socketPath }
        : { host: endpoint.host, port: endpoint.port, protocol: endpoint.protocol ?? 'http' },
    );
  }

  private where(): string {
    return this.endpoint.socketPath ?? `${this.endpoint.host}:${this.endpoint.port}`;
  }

  async ping(): Promise<void> {
    try {
      await this.docker.ping();
    } catch (err) {
      throw new EngineError(`container engine at ${this.where()} does not answer: ${reason(err)}`, { cause: err });
    }
  }

  async version(): Promise<EngineVersion> {
    try {
      const v = await this.docker.version();
      const podman = (v.Components ?? []).some((c) => /podman/i.test(c.Name));
      return { name: podman ? 'podman' : 'docker', version: v.Version, apiVersion: v.ApiVersion };
    } catch (err) {
      throw new EngineError(`cannot read the engine version: ${reason(err)}`, { cause: err });
    }
  }

  /**
   * The spec as this engine takes it. The spec carries a seccomp profile as JSON, which Docker
   * reads as is; Podman reads `seccomp=` as a file path on its host, so the profile is written to a
   * file named by its hash (again if it was deleted since) and the path is passed instead.
   */
  private async engineSpec(spec: SandboxSpec): Promise<SandboxSpec> {
    const inline = spec.HostConfig.SecurityOpt.find((opt) => opt.startsWith('seccomp={'));
    if (!inline) return spec;
    this.engineName ??= this.version().then((v) => v.name, () => 'docker');
    if ((await this.engineName) !== 'podman') return spec;
    const profile = inline.slice('seccomp='.length);
    const dir = this.options.profileDir ?? tmpdir();
    const path = join(dir, `seccomp-${createHash('sha256').update(profile).digest('hex').slice(0, 16)}.json`);
    const present = await stat(path).then(() => true, () => false);
    if (!present) {
      // Sandboxes are created several at a time: the file appears whole (written aside, then
      // renamed), so that no creation reads a profile another one is still writing.
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const aside = `${path}.${process.pid}.${randomUUID()}.tmp`;
      await writeFile(aside, profile, { mode: 0o644 });
      await rename(aside, path).catch(async (err: unknown) => {
        await rm(aside, { force: true });
        throw err;
      });
    }
    const SecurityOpt = spec.HostConfig.SecurityOpt.map((opt) => (opt === inline ? `seccomp=${path}` : opt));
    return { ...spec, HostConfig: { ...spec.HostConfig, SecurityOpt } };
  }

  async startAttached(spec: SandboxSpec): Promise<AttachedContainer> {
    let container: Docker.Container;
    try {
      container = await this.docker.createContainer((await this.engineSpec(spec)) as unknown as Docker.ContainerCreateOptions);
    } catch (err) {
      if (statusOf(err) === 404) {
        throw new EngineError(`sandbox image ${spec.Image} is not present; run \`mcp-code-mode image ensure\``, { cause: err });
      }
      throw new EngineError(`cannot create a sandbox container: ${reason(err)}`, { cause: err });
    }
    try {
      // Attach before start so that not one byte of the agent's first frame is missed.
      const stream = (await container.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true })) as NodeJS.ReadWriteStream & { destroy(): void };
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      this.docker.modem.demuxStream(stream, stdout, stderr);
      const finish = (): void => {
        stdout.end();
        stderr.end();
      };
      stream.on('end', finish);
      stream.on('close', finish);
      stream.on('error', finish);
      await container.start();
      return { id: container.id, stdin: stream as unknown as Writable, stdout, stderr };
    } catch (err) {
      await this.remove(container.id).catch(() => undefined);
      throw new EngineError(`cannot start a sandbox container: ${reason(err)}`, { cause: err });
    }
  }

  async remove(id: string): Promise<void> {
    // Podman answers 500 "container state improper" when the container stops on its own while
    // being killed (the agent exits as its stdin closes); the same call a moment later succeeds.
    for (let attempt = 0; ; attempt++) {
      try {
        await this.docker.getContainer(id).remove({ force: true, v: true });
        return;
      } catch (err) {
        const status = statusOf(err);
        // Already gone, or 409: removal already in progress (another remove raced us).
        if (containerGone(err) || status === 409) return;
        if (status !== 500 || attempt >= 5) {
          throw new EngineError(`cannot remove container ${id.slice(0, 12)}: ${reason(err)}`, { cause: err });
        }
        await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
      }
    }
  }

  async list(labels: Record<string, string>): Promise<ContainerSummary[]> {
    try {
      const filters = { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) };
      const rows = await this.docker.listContainers({ all: true, filters: JSON.stringify(filters) });
      return rows.map((row) => ({ id: row.Id, labels: row.Labels ?? {}, state: row.State }));
    } catch (err) {
      throw new EngineError(`cannot list containers: ${reason(err)}`, { cause: err });
    }
  }

  async state(id: string): Promise<ContainerState | undefined> {
    try {
      const info = await this.docker.getContainer(id).inspect();
      return { running: info.State.Running, oomKilled: info.State.OOMKilled, exitCode: info.State.ExitCode ?? null, status: info.State.Status };
    } catch (err) {
      if (containerGone(err)) return undefined;
      throw new EngineError(`cannot inspect container ${id.slice(0, 12)}: ${reason(err)}`, { cause: err });
    }
  }

  async runtimes(): Promise<string[]> {
    try {
      const info = (await this.docker.info()) as { Runtimes?: Record<string, unknown> };
      return Object.keys(info.Runtimes ?? {});
    } catch (err) {
      throw new EngineError(`cannot read the engine's OCI runtimes: ${reason(err)}`, { cause: err });
    }
  }

  async imageLabels(ref: string): Promise<Record<string, string> | undefined> {
    try {
      const info = await this.docker.getImage(ref).inspect();
      return info.Config?.Labels ?? {};
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw new EngineError(`cannot inspect image ${ref}: ${reason(err)}`, { cause: err });
    }
  }

  async pull(ref: string, onProgress: (line: string) => void): Promise<void> {
    try {
      const stream = await this.docker.pull(ref);
      // An error can also arrive as a progress event (Podman), after which the stream ends normally.
      let failure: string | undefined;
      await new Promise<void>((resolve, reject) => {
        this.docker.modem.followProgress(
          stream,
          (err) => (err ? reject(err) : failure ? reject(new Error(failure)) : resolve()),
          (event: { status?: string; progress?: string; id?: string; error?: string }) => {
            if (event.error) failure = event.error;
            else if (event.status) onProgress([event.id, event.status, event.progress].filter(Boolean).join(' '));
          },
        );
      });
    } catch (err) {
      throw new EngineError(`cannot pull image ${ref}: ${reason(err)}`, { cause: err });
    }
  }
}
