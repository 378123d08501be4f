import { access, constants } from 'node:fs/promises';

/** Where the container engine's Docker-compatible API is, and who said so. */
export interface EngineEndpoint {
  /** `docker`, `podman`, or `unknown` when only a path or DOCKER_HOST was given. */
  flavour: 'docker' | 'podman' | 'unknown';
  socketPath?: string;
  host?: string;
  port?: number;
  protocol?: 'http' | 'https';
  source: string;
}

export interface DetectInput {
  runtime?: string | undefined;
  dockerHost?: string | undefined;
  xdgRuntimeDir?: string | undefined;
  uid?: number | undefined;
  /** Whether a socket file exists; injectable for tests. */
  exists?: (path: string) => Promise<boolean>;
}

async function socketExists(path: string): Promise<boolean> {
  try {
    await access(path, constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function fromHostUri(uri: string, source: string, flavour: EngineEndpoint['flavour'] = 'unknown'): EngineEndpoint {
  if (uri.startsWith('unix://')) return { flavour, socketPath: uri.slice('unix://'.length), source };
  if (uri.startsWith('/')) return { flavour, socketPath: uri, source };
  const url = new URL(uri.replace(/^tcp:/, 'http:'));
  return { flavour, host: url.hostname, port: Number(url.port || 2375), protocol: 'http', source };
}

/** The well-known sockets, in the order they are tried. */
export function candidateSockets(input: DetectInput): { path: string; flavour: 'docker' | 'podman'; source: string }[] {
  const runtimeDir = input.xdgRuntimeDir ?? (input.uid !== undefined ? `/run/user/${input.uid}` : undefined);
  const list: { path: string; flavour: 'docker' | 'podman'; source: string }[] = [
    { path: '/var/run/docker.sock', flavour: 'docker', source: 'Docker socket /var/run/docker.sock' },
    { path: '/run/podman/podman.sock', flavour: 'podman', source: 'rootful Podman socket /run/podman/podman.sock' },
  ];
  if (runtimeDir) {
    list.push({ path: `${runtimeDir}/podman/podman.sock`, flavour: 'podman', source: `rootless Podman socket ${runtimeDir}/podman/podman.sock` });
    list.push({ path: `${runtimeDir}/docker.sock`, flavour: 'docker', source: `rootless Docker socket ${runtimeDir}/docker.sock` });
  }
  return list;
}

/**
 * Finds the engine, first match wins:
 * 1. MCP_BRIDGE_RUNTIME (`docker`, `podman`, or a socket path / URI);
 * 2. DOCKER_HOST;
 * 3. the Docker socket, the rootful Podman socket, the rootless Podman socket, the rootless Docker socket.
 * Returns undefined when nothing applies; the caller then proves the engine answers with one ping.
 */
export async function detectEngine(input: DetectInput): Promise<EngineEndpoint | undefined> {
  const exists = input.exists ?? socketExists;
  const sockets = candidateSockets(input);
  const runtime = input.runtime?.trim();
  if (runtime === 'docker' || runtime === 'podman') {
    if (input.dockerHost && runtime === 'docker') return fromHostUri(input.dockerHost, 'DOCKER_HOST (MCP_BRIDGE_RUNTIME=docker)', 'docker');
    for (const candidate of sockets.filter((s) => s.flavour === runtime)) {
      if (await exists(candidate.path)) return { flavour: runtime, socketPath: candidate.path, source: `MCP_BRIDGE_RUNTIME=${runtime}: ${candidate.source}` };
    }
    return undefined;
  }
  if (runtime) return fromHostUri(runtime, 'MCP_BRIDGE_RUNTIME');
  if (input.dockerHost) return fromHostUri(input.dockerHost, 'DOCKER_HOST');
  for (const candidate of sockets) {
    if (await exists(candidate.path)) return { flavour: candidate.flavour, socketPath: candidate.path, source: candidate.source };
  }
  return undefined;
}
