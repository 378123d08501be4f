// `@mcp-code-mode/daemon/container`: the container engines (Docker, Podman) for the CLI's `image` and
// `doctor` commands, without loading the rest of the daemon.
export { DockerodeClient, EngineError } from './container-client.js';
export type { ContainerClient, EngineVersion } from './container-client.js';
export { detectEngine } from './detect.js';
export { ociRuntimeProblem } from './oci-runtime.js';
export type { EngineEndpoint } from './detect.js';
export { buildLocalImage, builderEnv, ensureImage, LOCAL_IMAGE } from './image.js';
export {
  buildProfileImage,
  ensureConfiguredImage,
  formatImageContents,
  IMAGE_LABELS,
  imageContents,
  imagePlan,
  imageTag,
  parseImageArgs,
  userPackages,
} from './image-profiles.js';
