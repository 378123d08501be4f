import { spawn } from 'node:child_process';
import type { ContainerClient } from './container-client.js';
import { EngineError } from './container-client.js';
import { BUILDER_LOCATIONS, locateBuilder } from './builder.js';
import type { EngineEndpoint } from './detect.js';
import { LOCAL_IMAGE } from '../image-plan.js';

export { BUILDER_LOCATIONS, locateBuilder } from './builder.js';
export type { Builder } from './builder.js';

/** The image built from Debian packages when the default cannot be pulled. */
export { LOCAL_IMAGE };
export interface ImageOptions {
  image: string;
  /** True when the user named the image (MCP_BRIDGE_IMAGE): never substitute another one. */
  explicit: boolean;
  onProgress: (line: string) => void;
  /** Environment for the builder script, so its CLI talks to the same engine. */
  buildEnv: Record<string, string | undefined>;
  buildScript?: string;
}

/** The builder script's environment: its CLI must import into the engine the daemon uses (named by the engine's version answer, since a socket path says nothing). */
export function builderEnv(engineName: string, endpoint: EngineEndpoint, env: Record<string, string | undefined>): Record<string, string | undefined> {
  if (engineName === 'podman') return { ...env, ENGINE: 'podman' };
  return { ...env, ENGINE: 'docker', ...(endpoint.socketPath ? { DOCKER_HOST: `unix://${endpoint.socketPath}` } : {}) };
}

/** Runs the offline builder (mmdebstrap + import); it skips the work when its inputs are unchanged. `args`: see image-profiles.ts. */
export function buildLocalImage(options: Pick<ImageOptions, 'onProgress' | 'buildEnv' | 'buildScript'>, tag = LOCAL_IMAGE, args: string[] = []): Promise<void> {
  const builder = options.buildScript ? { script: options.buildScript, env: options.buildEnv } : locateBuilder(options.buildEnv);
  if (!builder) {
    const where = Object.values(BUILDER_LOCATIONS).join(' or ');
    return Promise.reject(new EngineError(`the sandbox image builder is missing (no ${where}); reinstall mcp-code-mode, or set MCP_BRIDGE_IMAGE to an image with python3 that your engine has`));
  }
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [builder.script, tag, ...args], { env: builder.env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    const tail: string[] = [];
    const onLine = (chunk: Buffer): void => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line.trim()) continue;
        tail.push(line);
        if (tail.length > 20) tail.shift();
        options.onProgress(line);
      }
    };
    child.stdout.on('data', onLine);
    child.stderr.on('data', onLine);
    child.on('error', (err) => reject(new EngineError(`cannot run the image builder: ${err.message}`, { cause: err })));
    child.on('close', (code) => {
      // The builder's own last word names what failed (a package apt cannot find, a requirement pip cannot meet).
      const named = tail.filter((l) => l.startsWith('build-local-image: ')).pop();
      if (code === 0) resolve();
      else if (named) reject(new EngineError(`building the sandbox image ${tag} failed: ${named.slice('build-local-image: '.length)}`));
      else reject(new EngineError(`building the sandbox image ${tag} failed (exit ${code}):\n${tail.join('\n')}\nInstall mmdebstrap (apt-get install mmdebstrap) or set MCP_BRIDGE_IMAGE to an image with python3 that your engine has.`));
    });
  });
}

/**
 * Decides which image the sandboxes use, making it present if needed. Order: the image if present;
 * for the default image only, the local fallback if present; a pull; for the default only, a local
 * build from Debian packages.
 */
export async function ensureImage(client: ContainerClient, options: ImageOptions): Promise<string> {
  if (await client.imageLabels(options.image)) return options.image;
  if (!options.explicit && (await client.imageLabels(LOCAL_IMAGE))) {
    options.onProgress(`${options.image} is not present; using the local image ${LOCAL_IMAGE}`);
    // The builder returns at once when the image's inputs are unchanged, and rebuilds otherwise.
    await buildLocalImage(options);
    return LOCAL_IMAGE;
  }
  options.onProgress(`pulling ${options.image}...`);
  try {
    await client.pull(options.image, options.onProgress);
    // Podman's Docker-compatible pull can end "successfully" with nothing pulled: check.
    if (!(await client.imageLabels(options.image))) throw new EngineError(`the engine reported the pull of ${options.image} done, but the image is not there`);
    return options.image;
  } catch (err) {
    if (options.explicit) {
      throw new EngineError(`MCP_BRIDGE_IMAGE=${options.image} is not present and cannot be pulled (${(err as Error).message}); pull it yourself or pick another image with python3 >= 3.9`, { cause: err });
    }
    options.onProgress(`cannot pull ${options.image} (${(err as Error).message}); building ${LOCAL_IMAGE} from Debian packages instead`);
  }
  await buildLocalImage(options);
  return LOCAL_IMAGE;
}
