// The data image for the tests that need it, on each runtime: the engine's own copy for Docker and
// Podman; for bwrap, a copy in an engine whose CLI the daemon can unpack it from (rootfs.ts).
// The tests do not build it (minutes): `SETUP_ENGINES=all SETUP_FOR_TESTS=1 bash scripts/setup.sh`
// (what `npm test` runs first) puts it in every engine.
import { spawnSync } from 'node:child_process';
import { PROFILE_TAGS } from '../../daemon/src/runtimes/container/image-profiles.ts';
import { BWRAP_TEST_CACHE, type TestEngine } from './engines.ts';

export const DATA_TAG = PROFILE_TAGS.data;

/** Where the bwrap tests keep the data image's tree: apart from the base tree, so that neither prunes the other. */
export const BWRAP_DATA_CACHE = `${BWRAP_TEST_CACHE}-data`;

const BUILD = 'mcp-code-mode image build --profile data';

/** The engine's CLI answer for the tag, or why it has none. */
function cliHas(cli: 'docker' | 'podman'): true | string {
  const r = spawnSync(cli, ['image', 'inspect', '--format', '{{.Id}}', DATA_TAG], { encoding: 'utf8', timeout: 30_000 });
  if (r.error) return `${cli}: ${r.error.message}`;
  if (r.status !== 0) return `${cli}: ${(r.stderr.trim().split('\n')[0] ?? '') || `exit ${r.status}`}`;
  return true;
}

/**
 * Undefined when a daemon on `engine` with MCP_BRIDGE_IMAGE_PROFILE=data finds the data image ready;
 * else what is missing and the command that makes it (a skip reason).
 */
export async function dataImageMissing(engine: TestEngine): Promise<string | undefined> {
  if (engine.name === 'bwrap') {
    const tried = (['docker', 'podman'] as const).map(cliHas);
    if (tried.includes(true)) return undefined;
    return `bwrap unpacks ${DATA_TAG} from an engine, and no engine has it (${tried.join('; ')}): run \`${BUILD}\``;
  }
  const present = await engine.docker.getImage(DATA_TAG).inspect().then(() => true, () => false);
  if (present) return undefined;
  const fix = engine.name === 'docker' ? `\`${BUILD}\`` : `\`MCP_BRIDGE_RUNTIME=${engine.socket} ${BUILD}\` (it reuses the root fs tarball of a Docker build)`;
  return `${engine.name === 'docker' ? 'Docker' : 'Podman'} has no ${DATA_TAG}: run ${fix}`;
}
