// The root filesystem of bwrap sandboxes: the sandbox image unpacked once into the cache. From the
// image itself when a container engine has it (`docker export` of a created container, through the
// engine's CLI, so that the daemon on bwrap never loads dockerode), else built straight from Debian
// packages by docker/build-local-image.sh --rootfs-dir, with no engine at all.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { access, chmod, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import type { EnvConfig } from '@mcp-code-mode/protocol';
import { BUILDER_LOCATIONS } from '../container/builder.js';

/** Where unpacked root filesystems live: readable on the way by the sandbox uids (not the 0700 state dir). */
export function bwrapCacheDir(config: Pick<EnvConfig, 'MCP_BRIDGE_BWRAP_CACHE'>, env: Record<string, string | undefined>, isRoot: boolean): string {
  if (config.MCP_BRIDGE_BWRAP_CACHE) return config.MCP_BRIDGE_BWRAP_CACHE;
  if (isRoot) return '/var/cache/mcp-code-mode/bwrap';
  return join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache'), 'mcp-code-mode', 'bwrap');
}

export interface RootfsOptions {
  cacheDir: string;
  /** The sandbox image (mcp-code-mode/sandbox:local). */
  image: string;
  /** Engine CLIs to ask for the image, in order. */
  engines?: string[];
  builder?: string;
  /** The builder's arguments for the image's profile (`--profile data`), when no engine has the image. */
  builderArgs?: string[];
  log?: (message: string) => void;
  signal?: AbortSignal;
}

export interface Rootfs {
  dir: string;
  /** `docker image sha256:...`, or `debian packages (build-local-image.sh)`. */
  source: string;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], signal?: AbortSignal, timeoutMs = 600_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], signal, timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * `CLI export -o FILE CONTAINER`, then `tar -x`. Through a file, not a pipe: Podman opens
 * /dev/stdout by path, which fails on the socket that Node gives a child for its stdout.
 */
async function exportInto(cli: string, container: string, dir: string, signal?: AbortSignal): Promise<void> {
  const tarball = `${dir}.tar`;
  try {
    const exported = await run(cli, ['export', '-o', tarball, container], signal);
    if (exported.code !== 0) throw new Error(`${cli} export failed (exit ${exported.code}): ${exported.stderr.trim().slice(0, 500)}`);
    const unpacked = await run('tar', ['-x', '-C', dir, '--numeric-owner', '-f', tarball], signal);
    if (unpacked.code !== 0) throw new Error(`tar -x of the ${cli} export failed (exit ${unpacked.code}): ${unpacked.stderr.trim().slice(0, 500)}`);
  } finally {
    await rm(tarball, { force: true });
  }
}

/** What a read-only root needs that an image export may lack: the mount points, without the engine's marker files. */
async function finish(dir: string): Promise<void> {
  await mkdir(join(dir, 'workspace'), { recursive: true });
  await mkdir(join(dir, 'tmp'), { recursive: true });
  await rm(join(dir, '.dockerenv'), { force: true });
  await rm(join(dir, 'run', '.containerenv'), { force: true });
  await chmod(dir, 0o755);
  await chmod(join(dir, 'workspace'), 0o755);
  await chmod(join(dir, 'tmp'), 0o1777);
  await access(join(dir, 'usr', 'bin', 'python3')).catch((err: unknown) => {
    throw new Error(`the sandbox root fs in ${dir} has no /usr/bin/python3`, { cause: err });
  });
}

/** The compiled agents in the cache, each named by its root fs (see agentCodeCacheFile in bwrap-runtime.ts). */
export const AGENT_CODE_PREFIX = 'agent-code-';

const exists = (path: string): Promise<boolean> => access(path).then(() => true, () => false);

/**
 * Keeps only `keep` among the unpacked trees (and removes trees left half-made by a crash), and
 * the agent compiled for it (see agentCodeCacheFile): the code compiled for other trees goes too.
 */
async function prune(cacheDir: string, keep: string): Promise<void> {
  const keptCode = `${AGENT_CODE_PREFIX}${basename(keep)}-`;
  for (const name of await readdir(cacheDir)) {
    const tree = (name.startsWith('rootfs-') || name.startsWith('.rootfs-')) && join(cacheDir, name) !== keep;
    const code = name.startsWith(AGENT_CODE_PREFIX) && !name.startsWith(keptCode);
    if (tree || code) await rm(join(cacheDir, name), { recursive: true, force: true });
  }
}

/**
 * The unpacked root fs for `image`, made when missing. Call it before any sandbox starts: it
 * removes the trees of other images from the cache, which a running sandbox could still use.
 */
export async function ensureRootfs(options: RootfsOptions): Promise<Rootfs> {
  const log = options.log ?? (() => undefined);
  // Not 0700: the sandbox uids must pass through it to reach the tree (which holds nothing secret).
  await mkdir(options.cacheDir, { recursive: true, mode: 0o755 });
  const tried: string[] = [];
  for (const cli of options.engines ?? ['docker', 'podman']) {
    let inspected: Run;
    try {
      inspected = await run(cli, ['image', 'inspect', '--format', '{{.Id}}', options.image], options.signal, 30_000);
    } catch (err) {
      tried.push(`${cli}: ${(err as Error).message}`);
      continue;
    }
    const id = inspected.stdout.trim().replace(/^sha256:/, '');
    if (inspected.code !== 0 || !/^[0-9a-f]{12,}$/.test(id)) {
      tried.push(`${cli}: ${inspected.stderr.trim().split('\n')[0] ?? `exit ${inspected.code}`}`);
      continue;
    }
    const dir = join(options.cacheDir, `rootfs-${id.slice(0, 16)}`);
    if (!(await exists(dir))) {
      log(`unpacking ${options.image} (${cli} image ${id.slice(0, 12)}) into ${dir}`);
      const aside = join(options.cacheDir, `.rootfs-${randomUUID()}`);
      const created = await run(cli, ['create', options.image, 'true'], options.signal, 60_000);
      if (created.code !== 0) throw new Error(`${cli} create ${options.image} failed: ${created.stderr.trim().slice(0, 500)}`);
      const container = created.stdout.trim().split('\n').pop()!;
      try {
        await mkdir(aside, { mode: 0o755 });
        await exportInto(cli, container, aside, options.signal);
        await finish(aside);
        await rename(aside, dir);
      } finally {
        await run(cli, ['rm', '-f', container], undefined, 60_000).catch(() => undefined);
        await rm(aside, { recursive: true, force: true });
      }
    }
    await prune(options.cacheDir, dir);
    return { dir, source: `${cli} image sha256:${id.slice(0, 12)}` };
  }
  // No engine has the image: the tree from Debian packages (the same profile), named by the builder's inputs.
  const builder = options.builder ?? BUILDER_LOCATIONS.checkout;
  const args = options.builderArgs ?? [];
  const printed = await run('bash', [builder, '--print-inputs', ...args], options.signal, 60_000);
  const inputs = printed.stdout.trim();
  if (printed.code !== 0 || !/^[0-9a-f]{64}$/.test(inputs)) {
    throw new Error(`the image builder ${builder} gave no inputs hash (exit ${printed.code}): ${printed.stderr.trim().slice(0, 500)}`);
  }
  const dir = join(options.cacheDir, `rootfs-debian-${inputs.slice(0, 16)}`);
  if (!(await exists(dir))) {
    log(`no engine has ${options.image} (${tried.join('; ')}); building the root fs from Debian packages${args.length > 0 ? ` (${args.join(' ')})` : ''} (about 30 s, minutes for the data profile)`);
    const built = await run('bash', [builder, '--rootfs-dir', dir, ...args], options.signal);
    if (built.code !== 0) throw new Error(`building the sandbox root fs failed: ${(built.stderr || built.stdout).trim().split('\n').slice(-5).join(' | ')}`);
    await finish(dir);
  }
  await prune(options.cacheDir, dir);
  return { dir, source: `debian packages (${builder})` };
}

/** The finished root fs trees in the cache (those with a python3), for `doctor`: normally one. */
export async function unpackedRootfs(cacheDir: string): Promise<string[]> {
  const names = await readdir(cacheDir).catch(() => [] as string[]);
  const trees = names.filter((name) => name.startsWith('rootfs-')).map((name) => join(cacheDir, name));
  const usable = await Promise.all(trees.map((dir) => exists(join(dir, 'usr', 'bin', 'python3'))));
  return trees.filter((_, i) => usable[i]);
}

/**
 * bwrap runs as the sandbox's own uid and resolves the root fs path itself: every directory on the
 * way must let others through (o+x), which a state directory (0700) does not.
 */
export async function rootfsReachable(dir: string): Promise<void> {
  for (let path = resolve(dir); ; path = dirname(path)) {
    const mode = (await stat(path)).mode;
    if ((mode & 0o001) === 0) {
      throw new Error(
        `the bwrap root fs ${dir} is out of reach of the sandbox uids: ${path} has mode ${(mode & 0o777).toString(8).padStart(4, '0')}; keep the root fs cache where others may pass (chmod o+x ${path}, or a cache under /var/cache)`,
      );
    }
    if (path === dirname(path)) return;
  }
}
