// Where the offline image builder is, without loading the engine client (the bwrap runtime builds
// its root filesystem with the same script).
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The offline builder has one home, docker/ at the repo root. The daemon package carries a copy in
 * assets/docker/ (written by its prepack, removed by its postpack), looked at first; a checkout has
 * only docker/.
 */
export const BUILDER_LOCATIONS = {
  packaged: fileURLToPath(new URL('../../../assets/docker/build-local-image.sh', import.meta.url)),
  checkout: fileURLToPath(new URL('../../../../docker/build-local-image.sh', import.meta.url)),
};

export interface Builder {
  script: string;
  env: Record<string, string | undefined>;
}

/**
 * The builder script and its environment, or undefined when neither location has it. The packaged
 * copy has no repo to keep its root-fs cache in (its default, <repo>/.state/cache, would be inside
 * node_modules, often not writable): it uses the user's cache directory unless MCP_CODE_MODE_CACHE says.
 */
export function locateBuilder(env: Record<string, string | undefined>, exists: (path: string) => boolean = existsSync, locations = BUILDER_LOCATIONS): Builder | undefined {
  if (exists(locations.packaged)) {
    const cache = env.MCP_CODE_MODE_CACHE || join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache'), 'mcp-code-mode');
    return { script: locations.packaged, env: { ...env, MCP_CODE_MODE_CACHE: cache } };
  }
  if (exists(locations.checkout)) return { script: locations.checkout, env };
  return undefined;
}

