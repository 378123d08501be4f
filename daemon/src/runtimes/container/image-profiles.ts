// Image profiles (base, data) and the packages the user names (Debian extras, pip requirements) on a
// container engine: the image the plan (../image-plan.ts) names, built when missing, and what an
// image holds as its labels say. The builder (docker/build-local-image.sh) hashes the inputs and
// skips an unchanged image; this side reads the labels back.
import { access, constants, stat } from 'node:fs/promises';
import type { ImageProfile } from '@mcp-code-mode/protocol';
import { IMAGE_PROFILES } from '@mcp-code-mode/protocol';
import type { ContainerClient } from './container-client.js';
import { EngineError } from './container-client.js';
import { buildLocalImage, ensureImage, type ImageOptions } from './image.js';
import { builderArgs, imagePlan, PROFILE_TAGS, type ImageBuild, type ImageConfig, type UserPackages } from '../image-plan.js';

export { builderArgs, imagePlan, imageTag, PROFILE_TAGS, userPackages, type ImageBuild, type ImagePlan, type UserPackages } from '../image-plan.js';

/** Labels the builder sets on every image it makes. */
export const IMAGE_LABELS = {
  inputs: 'mcp-code-mode.inputs',
  profile: 'mcp-code-mode.profile',
  extraPackages: 'mcp-code-mode.extra-packages',
  pipPackages: 'mcp-code-mode.pip-packages',
} as const;

/** `image build [--profile base|data]` / `image ensure`: the subcommand and the profile asked for. */
export function parseImageArgs(args: string[]): { sub: 'build' | 'ensure'; profile?: ImageProfile } | { problem: string } {
  const [sub, ...rest] = args;
  if (sub !== 'build' && sub !== 'ensure') return { problem: 'image needs a subcommand: build [--profile base|data] or ensure' };
  let profile: ImageProfile | undefined;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    const value = arg === '--profile' ? rest[++i] : arg.startsWith('--profile=') ? arg.slice('--profile='.length) : undefined;
    if (value === undefined) return { problem: arg === '--profile' ? '--profile needs base or data' : `image ${sub}: unknown argument ${JSON.stringify(arg)}` };
    if (sub !== 'build') return { problem: 'image ensure takes no --profile: it follows MCP_BRIDGE_IMAGE_PROFILE' };
    if (!(IMAGE_PROFILES as readonly string[]).includes(value)) return { problem: `--profile must be ${IMAGE_PROFILES.join(' or ')}, got ${JSON.stringify(value)}` };
    profile = value as ImageProfile;
  }
  return { sub, ...(profile ? { profile } : {}) };
}

/** What an image holds, from its labels; undefined fields when the image was not made by the builder. */
export interface ImageContents {
  profile?: string;
  extraPackages: string[];
  pipPackages: string[];
}

const list = (value: string | undefined): string[] => (value ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');

export function imageContents(labels: Record<string, string>): ImageContents {
  const profile = labels[IMAGE_LABELS.profile]?.trim();
  return { ...(profile ? { profile } : {}), extraPackages: list(labels[IMAGE_LABELS.extraPackages]), pipPackages: list(labels[IMAGE_LABELS.pipPackages]) };
}

/** One line for `doctor`: `profile data; extra packages: jq; pip packages: tiny==0.1`. */
export function formatImageContents(contents: ImageContents): string {
  if (!contents.profile) return 'not built by mcp-code-mode (no profile label)';
  return [
    `profile ${contents.profile}`,
    `extra packages: ${contents.extraPackages.join(', ') || 'none'}`,
    `pip packages: ${contents.pipPackages.join(', ') || 'none'}`,
  ].join('; ');
}

/** The user's files must be there before a build starts; the message names the variable. */
export async function checkUserPaths(user: UserPackages): Promise<void> {
  if (user.pipRequirements) {
    const ok = await access(user.pipRequirements, constants.R_OK).then(async () => (await stat(user.pipRequirements!)).isFile(), () => false);
    if (!ok) throw new EngineError(`MCP_BRIDGE_PIP_REQUIREMENTS=${user.pipRequirements} is not a readable file`);
  }
  if (user.pipFindLinks) {
    const ok = await stat(user.pipFindLinks).then((s) => s.isDirectory(), () => false);
    if (!ok) throw new EngineError(`MCP_BRIDGE_PIP_FIND_LINKS=${user.pipFindLinks} is not a directory`);
  }
}

/** Runs the builder for a profile (it returns at once when the inputs are unchanged) and checks the image is there. */
export async function buildProfileImage(client: Pick<ContainerClient, 'imageLabels'>, build: ImageBuild, options: Pick<ImageOptions, 'onProgress' | 'buildEnv' | 'buildScript'>): Promise<string> {
  await checkUserPaths(build.user);
  await buildLocalImage(options, build.tag, builderArgs(build).slice(1));
  if (!(await client.imageLabels(build.tag))) throw new EngineError(`the image builder finished but ${build.tag} is not in the engine`);
  return build.tag;
}

/** The image the daemon's sandboxes use, made present: the one place that follows the plan. */
export async function ensureConfiguredImage(
  client: ContainerClient,
  config: ImageConfig,
  options: Pick<ImageOptions, 'onProgress' | 'buildEnv' | 'buildScript'> & { explicit: boolean; cwd: string },
): Promise<string> {
  const plan = imagePlan(config, options.explicit, options.cwd);
  if (plan.kind === 'build') return buildProfileImage(client, plan.build, options);
  if (plan.kind === 'named' && plan.ignored.length > 0) options.onProgress(`MCP_BRIDGE_IMAGE=${plan.image} is set, so ${plan.ignored.join(', ')} ${plan.ignored.length === 1 ? 'is' : 'are'} ignored`);
  return ensureImage(client, { ...options, image: plan.image });
}
