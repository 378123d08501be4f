// Which image the config asks for (a profile, the user's packages, or a name) and the offline
// builder's arguments for it: the same plan for every runtime (an engine builds the image; bwrap
// exports it from an engine, or builds its root fs from the same inputs). No engine client here.
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import type { EnvConfig, ImageProfile } from '@mcp-code-mode/protocol';

/** The offline base image (docker/build-local-image.sh). */
export const LOCAL_IMAGE = 'mcp-code-mode/sandbox:local';

/** The tag of each profile's image as the builder makes it with no user packages. */
export const PROFILE_TAGS: Readonly<Record<ImageProfile, string>> = { base: LOCAL_IMAGE, data: 'mcp-code-mode/sandbox:data' };

/** What the user adds to a profile; absolute paths, so that the tag does not depend on the working directory. */
export interface UserPackages {
  extraPackages: string[];
  pipRequirements?: string;
  pipFindLinks?: string;
}

export interface ImageBuild {
  profile: ImageProfile;
  tag: string;
  user: UserPackages;
}

/** What the config asks for: an image named by the user, the default chain (python:3.12-slim, else base), or a build. */
export type ImagePlan =
  | { kind: 'named'; image: string; ignored: string[] }
  | { kind: 'default'; image: string }
  | { kind: 'build'; build: ImageBuild };

export type ImageConfig = Pick<EnvConfig, 'MCP_BRIDGE_IMAGE' | 'MCP_BRIDGE_IMAGE_PROFILE' | 'MCP_BRIDGE_EXTRA_PACKAGES' | 'MCP_BRIDGE_PIP_REQUIREMENTS' | 'MCP_BRIDGE_PIP_FIND_LINKS'>;

export function userPackages(config: ImageConfig, cwd: string): UserPackages {
  return {
    extraPackages: config.MCP_BRIDGE_EXTRA_PACKAGES ?? [],
    ...(config.MCP_BRIDGE_PIP_REQUIREMENTS ? { pipRequirements: resolve(cwd, config.MCP_BRIDGE_PIP_REQUIREMENTS) } : {}),
    ...(config.MCP_BRIDGE_PIP_FIND_LINKS ? { pipFindLinks: resolve(cwd, config.MCP_BRIDGE_PIP_FIND_LINKS) } : {}),
  };
}

function hasUserPackages(user: UserPackages): boolean {
  return user.extraPackages.length > 0 || user.pipRequirements !== undefined;
}

/**
 * The tag of a profile's image with the user's packages. A derived image gets a tag of its own, named
 * by which packages and files it is made from (not their content): two configs on one engine do not
 * replace each other's image, while a changed requirements file rebuilds the same tag.
 */
export function imageTag(profile: ImageProfile, user: UserPackages): string {
  if (!hasUserPackages(user)) return PROFILE_TAGS[profile];
  const key = JSON.stringify([user.extraPackages, user.pipRequirements ?? null, user.pipFindLinks ?? null]);
  return `${PROFILE_TAGS[profile]}-user-${createHash('sha256').update(key).digest('hex').slice(0, 12)}`;
}

/** MCP_BRIDGE_IMAGE wins when the user set it; the profile and user packages are then ignored (and named). */
export function imagePlan(config: ImageConfig, explicit: boolean, cwd: string): ImagePlan {
  const user = userPackages(config, cwd);
  if (explicit) {
    const ignored = [
      config.MCP_BRIDGE_IMAGE_PROFILE !== 'base' ? 'MCP_BRIDGE_IMAGE_PROFILE' : undefined,
      user.extraPackages.length > 0 ? 'MCP_BRIDGE_EXTRA_PACKAGES' : undefined,
      user.pipRequirements ? 'MCP_BRIDGE_PIP_REQUIREMENTS' : undefined,
    ].filter((n): n is string => n !== undefined);
    return { kind: 'named', image: config.MCP_BRIDGE_IMAGE, ignored };
  }
  const profile = config.MCP_BRIDGE_IMAGE_PROFILE;
  if (profile === 'base' && !hasUserPackages(user)) return { kind: 'default', image: config.MCP_BRIDGE_IMAGE };
  return { kind: 'build', build: { profile, tag: imageTag(profile, user), user } };
}

/** The builder's command-line arguments for a build. */
export function builderArgs(build: ImageBuild): string[] {
  const { user } = build;
  return [
    build.tag,
    '--profile',
    build.profile,
    ...(user.extraPackages.length > 0 ? ['--extra-packages', user.extraPackages.join(',')] : []),
    ...(user.pipRequirements ? ['--pip-requirements', user.pipRequirements] : []),
    ...(user.pipFindLinks ? ['--pip-find-links', user.pipFindLinks] : []),
  ];
}
