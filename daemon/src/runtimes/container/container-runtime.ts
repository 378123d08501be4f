import type { Logger } from 'pino';
import type { RuntimeInfo, RuntimeKind, SandboxDeath, SandboxRecord, SandboxRuntime, StartedSandbox } from '../runtime.js';
import type { ContainerClient } from './container-client.js';
import { diagnoseClosed } from './container-death.js';
import { LABEL_DAEMON, LABEL_OWNER, LABEL_SLOT, type SandboxSpec } from './sandbox-spec.js';

export interface ContainerRuntimeOptions {
  client: ContainerClient;
  /** The hardened spec of every sandbox, labelled with this daemon's owner and id. */
  spec: SandboxSpec;
  info: RuntimeInfo;
  log: Logger;
}

/**
 * Docker and Podman (through their Docker-compatible API) as a SandboxRuntime: a sandbox is a
 * container, created, attached and started in one step, found again by its labels.
 */
export class ContainerRuntime implements SandboxRuntime {
  readonly kind: RuntimeKind;

  constructor(private readonly options: ContainerRuntimeOptions) {
    this.kind = options.info.kind;
  }

  get client(): ContainerClient {
    return this.options.client;
  }

  info(): RuntimeInfo {
    return this.options.info;
  }

  start(slot: string): Promise<StartedSandbox> {
    const { spec } = this.options;
    return this.options.client.startAttached({ ...spec, Labels: { ...spec.Labels, [LABEL_SLOT]: slot } });
  }

  remove(id: string): Promise<void> {
    return this.options.client.remove(id);
  }

  diagnose(id: string): Promise<SandboxDeath> {
    return diagnoseClosed({ state: () => this.options.client.state(id) });
  }

  async list(): Promise<SandboxRecord[]> {
    const labels = this.options.spec.Labels;
    const owner = labels[LABEL_OWNER];
    const daemonId = labels[LABEL_DAEMON];
    const rows = await this.options.client.list(owner !== undefined ? { [LABEL_OWNER]: owner } : { [LABEL_DAEMON]: daemonId ?? '' });
    return rows.map((row) => ({
      id: row.id,
      ours: row.labels[LABEL_DAEMON] === daemonId,
      ...(row.labels[LABEL_SLOT] !== undefined ? { slot: row.labels[LABEL_SLOT] } : {}),
    }));
  }

  async close(): Promise<void> {
    // dockerode holds no connection open between requests (a socket per request).
  }
}
