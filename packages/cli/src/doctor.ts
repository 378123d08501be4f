import { stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { DaemonStatusSchema, parseEnvConfig, type DaemonStatus } from '@mcp-code-mode/protocol';
import { ControlClient, ControlError, statePaths } from '@mcp-code-mode/client';
import { discoverServers } from '@mcp-code-mode/daemon/config';
import {
  detectEngine,
  DockerodeClient,
  formatImageContents,
  IMAGE_LABELS,
  imageContents,
  imagePlan,
  LOCAL_IMAGE,
  ociRuntimeProblem,
  type ContainerClient,
  type EngineEndpoint,
} from '@mcp-code-mode/daemon/container';
import type { CliContext } from './context.js';

export interface Check {
  name: string;
  status: 'ok' | 'warn' | 'fail';
  detail: string;
  /** What to do about it; every failing check has one. */
  fix?: string;
}

/** What the doctor looks at, injectable so each check is tested without a real engine or daemon. */
export interface DoctorDeps {
  env: Record<string, string | undefined>;
  uid: number | undefined;
  detect: () => Promise<EngineEndpoint | undefined>;
  engine: (endpoint: EngineEndpoint) => Pick<ContainerClient, 'ping' | 'version' | 'imageLabels' | 'runtimes'>;
  /** mode and owner of a path, or undefined when it does not exist. */
  stat: (path: string) => Promise<{ mode: number; uid: number; isSocket: boolean; isDirectory: boolean } | undefined>;
  daemonStatus: () => Promise<DaemonStatus | undefined>;
  /** Problems of the MCP server config files as discovery sees them now. */
  configProblems: () => Promise<{ path: string; message: string }[]>;
  /** Against which relative MCP_BRIDGE_PIP_* paths resolve (the daemon's working directory). */
  cwd?: string;
  /** Whether the bwrap runtime can run here: its version and limits and the root fs trees in its cache, or why not. */
  bwrap?: () => Promise<{ usable: true; detail: string; rootfs: { cacheDir: string; trees: string[] } } | { usable: false; reason: string }>;
}

const ENGINE_FIX =
  'install and start Docker (Debian: apt-get install docker.io, then start dockerd) or Podman (apt-get install podman; podman system service --time=0 &), ' +
  'or point MCP_BRIDGE_RUNTIME or DOCKER_HOST at its socket';

function octal(mode: number): string {
  return (mode & 0o777).toString(8).padStart(4, '0');
}

/** Runs every check in order; a check that cannot run (no engine) says so instead of throwing. */
export async function runDoctor(deps: DoctorDeps): Promise<Check[]> {
  const checks: Check[] = [];
  const env = parseEnvConfig(deps.env);
  checks.push(
    env.ok
      ? { name: 'settings', status: 'ok', detail: 'every MCP_BRIDGE_* variable is valid' }
      : { name: 'settings', status: 'fail', detail: env.problems.join('; '), fix: 'correct the variables named above (docs/CONFIG.md lists each one)' },
  );

  const wantsBwrap = env.ok && env.config.MCP_BRIDGE_RUNTIME === 'bwrap';
  const bwrap = deps.bwrap ? await deps.bwrap().catch((err: Error) => ({ usable: false as const, reason: err.message })) : undefined;
  if (bwrap) {
    // Needed when asked for, or as the fallback when no engine answers; otherwise only for information.
    if (bwrap.usable) checks.push({ name: 'bwrap', status: 'ok', detail: bwrap.detail });
    else checks.push({ name: 'bwrap', status: wantsBwrap ? 'fail' : 'warn', detail: `not usable: ${bwrap.reason}`, fix: 'install bubblewrap (Debian: apt-get install -y bubblewrap), or use a container engine' });
  }
  const endpoint = wantsBwrap ? undefined : await deps.detect().catch(() => undefined);
  let engine: ReturnType<DoctorDeps['engine']> | undefined;
  let engineName = '';
  if (wantsBwrap) {
    checks.push({ name: 'engine', status: 'ok', detail: 'not needed: MCP_BRIDGE_RUNTIME=bwrap' });
  } else if (!endpoint && bwrap?.usable) {
    checks.push({ name: 'engine', status: 'warn', detail: 'no container engine found; the daemon runs its sandboxes on bwrap' });
  } else if (!endpoint) {
    checks.push({ name: 'engine', status: 'fail', detail: 'no container engine found', fix: ENGINE_FIX });
  } else {
    const candidate = deps.engine(endpoint);
    try {
      await candidate.ping();
      const version = await candidate.version();
      engine = candidate;
      engineName = version.name;
      checks.push({ name: 'engine', status: 'ok', detail: `${version.name} ${version.version} at ${endpoint.socketPath ?? `${endpoint.host}:${endpoint.port}`} (${endpoint.source})` });
    } catch (err) {
      checks.push({ name: 'engine', status: 'fail', detail: `${endpoint.source} does not answer: ${(err as Error).message}`, fix: ENGINE_FIX });
    }
  }

  if (engine && env.ok) checks.push(await ociRuntimeCheck(engine, engineName, env.config.MCP_BRIDGE_OCI_RUNTIME));

  if (engine && env.ok) {
    const image = env.config.MCP_BRIDGE_IMAGE;
    const explicit = Boolean(deps.env.MCP_BRIDGE_IMAGE);
    const plan = imagePlan(env.config, explicit, deps.cwd ?? process.cwd());
    // What the image holds (profile, extra and pip packages), from the labels the builder set.
    const holds = (labels: Record<string, string>): string => `: ${formatImageContents(imageContents(labels))}`;
    let labels: Record<string, string> | undefined;
    if (plan.kind === 'build') {
      const { tag } = plan.build;
      if ((labels = await engine.imageLabels(tag))) checks.push({ name: 'image', status: 'ok', detail: `${tag} is present${holds(labels)}` });
      else checks.push({ name: 'image', status: 'fail', detail: `${tag} (profile ${plan.build.profile}${plan.build.user.extraPackages.length > 0 || plan.build.user.pipRequirements ? ' with your packages' : ''}) is not built yet`, fix: 'run `mcp-code-mode image ensure` (builds it offline from Debian packages; the daemon also builds it when it starts)' });
    } else if ((labels = await engine.imageLabels(image))) checks.push({ name: 'image', status: 'ok', detail: `${image} is present${labels[IMAGE_LABELS.profile] ? holds(labels) : ''}` });
    else if (!explicit && (labels = await engine.imageLabels(LOCAL_IMAGE))) checks.push({ name: 'image', status: 'ok', detail: `${image} is absent; the local image ${LOCAL_IMAGE} is used${holds(labels)}` });
    else {
      checks.push({
        name: 'image',
        status: 'fail',
        detail: `${image} is not present${explicit ? '' : ` and neither is ${LOCAL_IMAGE}`}`,
        fix: explicit ? `pull it (docker pull ${image}) or unset MCP_BRIDGE_IMAGE` : 'run `mcp-code-mode image ensure` (pulls it, or builds the local image offline)',
      });
    }
  } else if (bwrap?.usable && (wantsBwrap || !endpoint)) {
    // On bwrap the image is the root fs the daemon unpacked (from an engine's image, or from Debian packages).
    const { cacheDir, trees } = bwrap.rootfs;
    checks.push(
      trees.length > 0
        ? { name: 'image', status: 'ok', detail: `bwrap root fs ${trees.join(', ')}` }
        : { name: 'image', status: 'ok', detail: `no bwrap root fs in ${cacheDir} yet; the daemon unpacks it from the sandbox image (or builds it from Debian packages, about 30 s) when it starts` },
    );
  } else {
    checks.push({ name: 'image', status: 'warn', detail: 'not checked: no working engine or settings' });
  }

  const paths = statePaths(deps.env);
  const dir = await deps.stat(paths.dir);
  if (!dir) checks.push({ name: 'state directory', status: 'ok', detail: `${paths.dir} does not exist yet; the daemon creates it (mode 0700)` });
  else if (!dir.isDirectory) checks.push({ name: 'state directory', status: 'fail', detail: `${paths.dir} is not a directory`, fix: `remove it, or set MCP_BRIDGE_STATE_DIR to a directory` });
  else if (deps.uid !== undefined && dir.uid !== deps.uid)
    checks.push({ name: 'state directory', status: 'fail', detail: `${paths.dir} belongs to uid ${dir.uid}, not to you (uid ${deps.uid})`, fix: `chown ${deps.uid} ${paths.dir}, or set MCP_BRIDGE_STATE_DIR` });
  else if ((dir.mode & 0o077) !== 0)
    checks.push({ name: 'state directory', status: 'fail', detail: `${paths.dir} has mode ${octal(dir.mode)}: others can reach the control socket`, fix: `chmod 700 ${paths.dir}` });
  else checks.push({ name: 'state directory', status: 'ok', detail: `${paths.dir} (mode ${octal(dir.mode)})` });

  const socket = await deps.stat(paths.socket);
  const status = await deps.daemonStatus().catch(() => undefined);
  if (!socket) checks.push({ name: 'daemon', status: 'warn', detail: 'not running', fix: 'start it with `mcp-code-mode start` (the shim also starts it on first use)' });
  else if ((socket.mode & 0o077) !== 0)
    checks.push({ name: 'daemon', status: 'fail', detail: `${paths.socket} has mode ${octal(socket.mode)}; it must be 0600`, fix: `chmod 600 ${paths.socket}, then restart the daemon (mcp-code-mode stop; mcp-code-mode start)` });
  else if (!status) checks.push({ name: 'daemon', status: 'warn', detail: `${paths.socket} exists but no daemon answers (a daemon was killed)`, fix: 'start it with `mcp-code-mode start`; the stale socket is replaced' });
  else {
    const { pool } = status;
    checks.push({ name: 'daemon', status: 'ok', detail: `pid ${status.pid}, socket mode 0600, ${pool.warm} warm sandboxes, image ${status.image}` });
    if (pool.warm === 0 && pool.lastStartError) {
      checks.push({ name: 'sandboxes', status: 'fail', detail: `sandboxes do not start: ${pool.lastStartError}`, fix: 'check the image has python3 >= 3.9 and the engine works (mcp-code-mode logs)' });
    }
    if (status.http.error) checks.push({ name: 'health endpoint', status: 'fail', detail: status.http.error, fix: 'pick a free MCP_BRIDGE_HTTP_PORT (or 0 to disable), then restart the daemon' });
    for (const s of status.servers.filter((s) => s.state === 'failed')) {
      checks.push({ name: `MCP server ${s.name}`, status: 'fail', detail: s.lastError ?? 'failed', fix: `check its entry in ${s.source} (command, url, env)` });
    }
  }

  const problems = status ? status.configProblems : await deps.configProblems().catch((err: Error) => [{ path: 'config', message: err.message }]);
  if (problems.length === 0) checks.push({ name: 'MCP config', status: 'ok', detail: 'no problem in the MCP server config files' });
  for (const p of problems) checks.push({ name: 'MCP config', status: 'fail', detail: `${p.path}: ${p.message}`, fix: `fix or remove that entry in ${p.path}; the other servers still load` });
  return checks;
}

/** Whether the engine has MCP_BRIDGE_OCI_RUNTIME (the daemon refuses to start without it), or that gVisor is there to use. */
async function ociRuntimeCheck(engine: Pick<ContainerClient, 'runtimes'>, engineName: string, wanted: string | undefined): Promise<Check> {
  let known: string[];
  try {
    known = await engine.runtimes();
  } catch (err) {
    return { name: 'OCI runtime', status: wanted ? 'fail' : 'warn', detail: (err as Error).message, fix: 'check that the engine answers `docker info`' };
  }
  if (wanted) {
    const problem = ociRuntimeProblem(wanted, engineName, known);
    if (problem) return { name: 'OCI runtime', status: 'fail', detail: problem, fix: `register ${wanted} with the engine, or unset MCP_BRIDGE_OCI_RUNTIME` };
    return { name: 'OCI runtime', status: 'ok', detail: `sandboxes run under ${wanted}${wanted.includes('runsc') ? ' (gVisor)' : ''}` };
  }
  const gvisor = known.includes('runsc') ? '; runsc (gVisor) is there: MCP_BRIDGE_OCI_RUNTIME=runsc uses it' : '; no runsc (gVisor) registered';
  return { name: 'OCI runtime', status: 'ok', detail: `the engine's default (it has ${known.join(', ') || 'none listed'})${gvisor}` };
}

export function formatChecks(checks: Check[]): string {
  const mark = { ok: 'ok  ', warn: 'warn', fail: 'FAIL' } as const;
  return checks.map((c) => `[${mark[c.status]}] ${c.name}: ${c.detail}${c.fix && c.status !== 'ok' ? `\n       fix: ${c.fix}` : ''}`).join('\n');
}

export function defaultDoctorDeps(env: Record<string, string | undefined>): DoctorDeps {
  const config = parseEnvConfig(env);
  const paths = statePaths(env);
  const control = new ControlClient(paths.socket);
  return {
    env,
    uid: process.getuid?.(),
    detect: () =>
      detectEngine({ runtime: config.ok ? config.config.MCP_BRIDGE_RUNTIME : env.MCP_BRIDGE_RUNTIME, dockerHost: env.DOCKER_HOST, xdgRuntimeDir: env.XDG_RUNTIME_DIR, uid: process.getuid?.() }),
    engine: (endpoint) => new DockerodeClient(endpoint),
    bwrap: async () => {
      const { bwrapCacheDir, probeBwrap, unpackedRootfs } = await import('@mcp-code-mode/daemon/bwrap');
      try {
        const cfg = config.ok ? config.config : undefined;
        const host = await probeBwrap({
          stateDir: paths.dir,
          ...(env.PATH ? { path: env.PATH } : {}),
          ...(cfg ? { uidRange: { base: cfg.MCP_BRIDGE_BWRAP_UID_BASE, count: cfg.MCP_BRIDGE_BWRAP_UID_COUNT }, delegatedCgroup: cfg.MCP_BRIDGE_BWRAP_CGROUP, allowUnlimited: cfg.MCP_BRIDGE_BWRAP_ALLOW_UNLIMITED } : {}),
          needCpu: cfg?.MCP_BRIDGE_CPUS !== undefined,
        });
        const limits = host.cgroups ? 'memory, pids and CPU limits by cgroups' : 'NO limits (MCP_BRIDGE_BWRAP_ALLOW_UNLIMITED=1)';
        const cacheDir = bwrapCacheDir({ MCP_BRIDGE_BWRAP_CACHE: cfg?.MCP_BRIDGE_BWRAP_CACHE }, env, process.getuid?.() === 0);
        const rootfs = { cacheDir, trees: await unpackedRootfs(cacheDir) };
        return { usable: true, detail: `bwrap ${host.version} (${host.via}): ${limits}; sandboxes run as ${host.uids ? 'a host uid of their own each' : 'your uid'}`, rootfs };
      } catch (err) {
        return { usable: false, reason: (err as Error).message };
      }
    },
    stat: async (path) => {
      const s = await stat(path).catch(() => undefined);
      return s && { mode: s.mode, uid: s.uid, isSocket: s.isSocket(), isDirectory: s.isDirectory() };
    },
    daemonStatus: async () => {
      try {
        const parsed = DaemonStatusSchema.safeParse(await control.get('/v1/status'));
        return parsed.success ? parsed.data : undefined;
      } catch (err) {
        if (err instanceof ControlError) return undefined;
        throw err;
      }
    },
    configProblems: async () => (await discoverServers({ home: env.HOME || homedir(), cwd: process.cwd(), env, platform: process.platform })).problems,
  };
}

/** `mcp-code-mode doctor [--json]`: exits 1 when a check fails. */
export async function doctorCommand(args: string[], ctx: CliContext, deps: DoctorDeps = defaultDoctorDeps(ctx.env)): Promise<number> {
  const checks = await runDoctor(deps);
  ctx.stdout.write(args.includes('--json') ? `${JSON.stringify(checks, null, 2)}\n` : `${formatChecks(checks)}\n`);
  return checks.some((c) => c.status === 'fail') ? 1 : 0;
}
