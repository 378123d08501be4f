import type { Logger } from 'pino';
import type { OpenRuntimeOptions, RuntimeKind } from '../runtime.js';
import { DockerodeClient, EngineError, type ContainerClient } from './container-client.js';
import { ContainerRuntime } from './container-runtime.js';
import { detectEngine, type EngineEndpoint } from './detect.js';
import { builderEnv } from './image.js';
import { ensureConfiguredImage } from './image-profiles.js';
import { buildSandboxSpec, LABEL_DAEMON, LABEL_OWNER } from './sandbox-spec.js';
import { ociRuntimeProblem } from './oci-runtime.js';
import { loadBaseProfile, PERMISSIVE_BASE, sandboxSeccompProfile } from './seccomp.js';

export const ENGINE_HELP =
  'no container engine found. Install and start Docker (Debian: apt-get install docker.io && dockerd &) or Podman ' +
  '(apt-get install podman && podman system service --time=0 &), or point MCP_BRIDGE_RUNTIME / DOCKER_HOST at its socket';

/**
 * The seccomp profile for the sandboxes, as `seccomp=` takes it, or undefined for the engine's own.
 * Docker's default already refuses namespaces, mounts and the keyring to a process without
 * capabilities. Podman's default allows them (and a user namespace brings capabilities back), so on
 * Podman the sandbox uses Podman's installed default with those refused.
 */
async function sandboxSeccomp(engineName: string, log: Logger): Promise<string | undefined> {
  if (engineName !== 'podman') return undefined;
  const base = await loadBaseProfile();
  if (!base) log.warn('no Podman default seccomp profile found (/usr/share/containers/seccomp.json); the sandbox allows every syscall but namespaces, mounts and the keyring');
  else log.debug({ source: base.source }, 'seccomp profile based on the installed default');
  return JSON.stringify(sandboxSeccompProfile(base?.profile ?? PERMISSIVE_BASE));
}

/**
 * Finds the engine (unless the caller found it already: `detected`), proves it answers, makes the
 * image present, and builds the hardened spec.
 */
export async function openContainerRuntime(options: OpenRuntimeOptions, detected?: EngineEndpoint): Promise<ContainerRuntime> {
  const { config, env, log } = options;
  const endpoint = detected ?? await detectEngine({ runtime: config.MCP_BRIDGE_RUNTIME, dockerHost: env.DOCKER_HOST, xdgRuntimeDir: env.XDG_RUNTIME_DIR, uid: process.getuid?.() });
  if (!endpoint) throw new EngineError(ENGINE_HELP);
  const client: ContainerClient = new DockerodeClient(endpoint, { profileDir: options.stateDir });
  await client.ping();
  const engine = await client.version();
  log.info({ engine: engine.name, version: engine.version, via: endpoint.source }, 'container engine found');
  const ociRuntime = config.MCP_BRIDGE_OCI_RUNTIME;
  if (ociRuntime !== undefined) {
    // Before the image and the pool: a runtime the engine lacks would fail every sandbox start.
    const problem = ociRuntimeProblem(ociRuntime, engine.name, await client.runtimes());
    if (problem) throw new EngineError(problem);
    log.info({ ociRuntime }, 'sandboxes run under this OCI runtime');
  }
  const image = await ensureConfiguredImage(client, config, {
    explicit: options.imageExplicit,
    cwd: options.cwd,
    onProgress: options.onProgress,
    buildEnv: builderEnv(engine.name, endpoint, env),
  });
  const spec = buildSandboxSpec(
    {
      image,
      user: config.MCP_BRIDGE_CONTAINER_USER,
      memoryBytes: config.MCP_BRIDGE_MEMORY,
      pids: config.MCP_BRIDGE_PIDS,
      cpus: config.MCP_BRIDGE_CPUS,
      tmpfsBytes: config.MCP_BRIDGE_TMPFS_SIZE,
      nofile: config.MCP_BRIDGE_NOFILE,
      nproc: config.MCP_BRIDGE_NPROC,
      seccomp: await sandboxSeccomp(engine.name, log),
      ociRuntime,
    },
    options.command,
    { [LABEL_OWNER]: options.owner, [LABEL_DAEMON]: options.daemonId },
  );
  const kind: RuntimeKind = engine.name === 'podman' ? 'podman' : 'docker';
  return new ContainerRuntime({ client, spec, log, info: { kind, name: engine.name, version: engine.version, via: endpoint.source, image } });
}
