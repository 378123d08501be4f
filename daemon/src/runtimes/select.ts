// Which runtime serves the sandboxes: MCP_BRIDGE_RUNTIME when set; else a container engine that
// answers; else bwrap when it is usable here; else an error that says what to install. Each runtime
// is loaded only when chosen: a daemon on bwrap never loads dockerode and its transports.
import { request } from 'node:http';
import { detectEngine, type EngineEndpoint } from './container/detect.js';
import { builderArgs, imagePlan, PROFILE_TAGS } from './image-plan.js';
import { RuntimeUnavailableError, type OpenRuntimeOptions, type SandboxRuntime } from './runtime.js';

export type { OpenRuntimeOptions } from './runtime.js';

const NOTHING_TO_RUN_ON =
  'no sandbox runtime is usable: no container engine answers, and bwrap cannot run here ({bwrap}). ' +
  'Install one: bubblewrap (Debian: apt-get install -y bubblewrap; no engine needed), Docker (apt-get install docker.io && dockerd &) ' +
  'or Podman (apt-get install podman && podman system service --time=0 &); or point MCP_BRIDGE_RUNTIME / DOCKER_HOST at an engine';

/** One GET /_ping with a short timeout, without dockerode: does an engine answer there? */
export function engineAnswers(endpoint: EngineEndpoint, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(
      {
        ...(endpoint.socketPath ? { socketPath: endpoint.socketPath } : { host: endpoint.host, port: endpoint.port }),
        path: '/_ping',
        method: 'GET',
        timeout: timeoutMs,
        agent: false,
      },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

async function openBwrap(options: OpenRuntimeOptions): Promise<SandboxRuntime> {
  const { config, log } = options;
  const [{ probeBwrap }, { bwrapCacheDir, ensureRootfs }, { BwrapRuntime }, { bwrapAgentCommand, bwrapPrecompile }, { locateBuilder }] = await Promise.all([
    import('./bwrap/probe.js'),
    import('./bwrap/rootfs.js'),
    import('./bwrap/bwrap-runtime.js'),
    import('./bwrap/agent-command.js'),
    import('./container/builder.js'),
  ]);
  const host = await probeBwrap({
    stateDir: options.stateDir,
    ...(options.env.PATH ? { path: options.env.PATH } : {}),
    uidRange: { base: config.MCP_BRIDGE_BWRAP_UID_BASE, count: config.MCP_BRIDGE_BWRAP_UID_COUNT },
    delegatedCgroup: config.MCP_BRIDGE_BWRAP_CGROUP,
    allowUnlimited: config.MCP_BRIDGE_BWRAP_ALLOW_UNLIMITED,
    needCpu: config.MCP_BRIDGE_CPUS !== undefined,
    warn: (message) => log.warn(message),
  });
  // The image the engines would run (a profile, the user's packages, or MCP_BRIDGE_IMAGE): its root
  // fs comes from an engine that has it, else from the builder with the same inputs.
  const plan = imagePlan(config, options.imageExplicit, options.cwd);
  if (plan.kind === 'named' && plan.ignored.length > 0) log.warn({ ignored: plan.ignored }, `MCP_BRIDGE_IMAGE is set: ${plan.ignored.join(', ')} ignored`);
  const image = plan.kind === 'build' ? plan.build.tag : plan.kind === 'named' ? plan.image : PROFILE_TAGS.base;
  const builder = locateBuilder(options.env);
  const cacheDir = bwrapCacheDir(config, options.env, process.getuid?.() === 0);
  const rootfs = await ensureRootfs({
    cacheDir,
    image,
    ...(builder ? { builder: builder.script } : {}),
    // Built from Debian packages when no engine has the image: the profile's and the user's packages too.
    ...(plan.kind === 'build' ? { builderArgs: builderArgs(plan.build).slice(1) } : {}),
    log: options.onProgress,
  });
  log.info({ bwrap: host.version, via: host.via, rootfs: rootfs.dir, from: rootfs.source, limits: host.cgroups ? 'cgroups' : 'none', uids: host.uids ? 'own per sandbox' : 'the daemon\'s' }, 'bwrap runtime ready');
  const runtime = new BwrapRuntime(
    {
      rootfs: rootfs.dir,
      image,
      agentCommand: await bwrapAgentCommand(options.command),
      precompile: { ...(await bwrapPrecompile(options.command)), cacheDir },
      limits: {
        memoryBytes: config.MCP_BRIDGE_MEMORY,
        pids: config.MCP_BRIDGE_PIDS,
        cpus: config.MCP_BRIDGE_CPUS,
        tmpfsBytes: config.MCP_BRIDGE_TMPFS_SIZE,
        nofile: config.MCP_BRIDGE_NOFILE,
        nproc: config.MCP_BRIDGE_NPROC,
      },
      stateDir: options.stateDir,
      owner: options.owner,
      daemon: options.daemonId,
      log: log.child({ component: 'bwrap' }),
    },
    host,
  );
  // In the background: nothing of it is needed to start.
  void runtime.sweepAbandoned().then(
    ({ uids, cgroups }) => {
      if (uids.length + cgroups.length > 0) log.info({ uids, cgroups: cgroups.length }, 'removed the uid claims and cgroups that bwrap sandboxes of dead daemons left');
    },
    (err: unknown) => log.warn({ err }, 'sweeping what the bwrap sandboxes of dead daemons left failed; the next daemon tries again'),
  );
  // The daemon checks the pool's first sandbox before it says ready (see SandboxRuntime.selfTest).
  // Before the pool starts: one compile (~60 ms) instead of each first sandbox's own, side by side.
  await runtime.precompile();
  return runtime;
}

/** `endpoint`: what detection found already, so that the engine is not looked for twice. */
async function openContainer(options: OpenRuntimeOptions, endpoint?: EngineEndpoint): Promise<SandboxRuntime> {
  const { openContainerRuntime } = await import('./container/open.js');
  return openContainerRuntime(options, endpoint);
}

export async function openRuntime(options: OpenRuntimeOptions): Promise<SandboxRuntime> {
  const { config, env } = options;
  const wanted = config.MCP_BRIDGE_RUNTIME;
  if (wanted === 'bwrap') return openBwrap(options);
  if (wanted) return openContainer(options);
  const endpoint = await detectEngine({ dockerHost: env.DOCKER_HOST, xdgRuntimeDir: env.XDG_RUNTIME_DIR, uid: process.getuid?.() });
  if (endpoint && (await engineAnswers(endpoint))) return openContainer(options, endpoint);
  try {
    return await openBwrap(options);
  } catch (err) {
    // An engine socket that exists but does not answer is the likelier intent: say so first.
    if (endpoint) return openContainer(options, endpoint);
    throw new RuntimeUnavailableError(NOTHING_TO_RUN_ON.replace('{bwrap}', (err as Error).message), { cause: err });
  }
}
