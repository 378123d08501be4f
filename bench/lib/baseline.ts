import { spawn } from 'node:child_process';
import type { SandboxSpec } from '../../daemon/src/runtimes/container/sandbox-spec.ts';

/**
 * The Python bridge's design: one `docker run --rm` per call, with the same image and the same
 * hardening flags as our sandboxes (derived from the very spec the daemon uses).
 */
export function dockerRunArgs(spec: SandboxSpec, code: string): string[] {
  const h = spec.HostConfig;
  const args = ['run', '--rm', '-i', '--network', 'none', '--read-only'];
  for (const [path, opts] of Object.entries(h.Tmpfs)) args.push('--tmpfs', `${path}:${opts}`);
  args.push('--cap-drop', 'ALL', '--security-opt', 'no-new-privileges', '--user', spec.User, '--workdir', spec.WorkingDir);
  args.push('--memory', String(h.Memory), '--memory-swap', String(h.MemorySwap), '--pids-limit', String(h.PidsLimit));
  if (h.NanoCpus) args.push('--cpus', String(h.NanoCpus / 1e9));
  for (const u of h.Ulimits) args.push('--ulimit', `${u.Name}=${u.Soft}:${u.Hard}`);
  args.push('--init');
  for (const env of spec.Env) args.push('--env', env);
  args.push(spec.Image, 'python3', '-c', code);
  return args;
}

/** Runs the docker CLI against one engine socket; resolves with stdout, rejects on a non-zero exit. */
export function dockerCli(socketPath: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('docker', args, { env: { ...process.env, DOCKER_HOST: `unix://${socketPath}` }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`docker ${args.slice(0, 2).join(' ')} exited ${code}: ${err.trim()}`))));
  });
}
