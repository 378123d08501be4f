import { existsSync } from 'node:fs';
import Docker from 'dockerode';

export interface TestEngine {
  name: 'docker' | 'podman';
  socket: string;
  docker: Docker;
}

const CANDIDATES: { name: 'docker' | 'podman'; socket: string }[] = [
  { name: 'docker', socket: '/var/run/docker.sock' },
  { name: 'podman', socket: '/run/podman/podman.sock' },
];

/**
 * The engines this machine answers on. Tests run against each. TEST_ENGINES=docker (or podman)
 * narrows the list; at least one engine must answer, or the suite fails loudly.
 */
export async function availableEngines(): Promise<TestEngine[]> {
  const wanted = process.env.TEST_ENGINES?.split(',').map((s) => s.trim());
  const found: TestEngine[] = [];
  for (const c of CANDIDATES) {
    if (wanted && !wanted.includes(c.name)) continue;
    if (!existsSync(c.socket)) continue;
    const docker = new Docker({ socketPath: c.socket });
    try {
      await docker.ping();
      found.push({ ...c, docker });
    } catch {
      // Not answering: not available for this run.
    }
  }
  if (found.length === 0) throw new Error('no container engine answers; run `bash scripts/ensure-engine.sh` (and ENGINE=podman for Podman)');
  return found;
}

/** Containers (any state) that a daemon with this state directory owns. */
export async function containersOf(engine: TestEngine, owner: string): Promise<Docker.ContainerInfo[]> {
  return engine.docker.listContainers({ all: true, filters: JSON.stringify({ label: [`mcp-code-mode.owner=${owner}`] }) });
}
