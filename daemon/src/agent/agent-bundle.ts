import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { deflateSync } from 'node:zlib';

/**
 * The agent's sources, the package @mcp-code-mode/sandbox (packages/sandbox): resolved as a dependency,
 * so the same line finds the workspace link in a checkout and node_modules in an installed daemon.
 */
export const DEFAULT_SANDBOX_DIR = dirname(createRequire(import.meta.url).resolve('@mcp-code-mode/sandbox/package.json'));

/** Linux caps one argv string at 128 KiB; stay clear of it. */
const MAX_ARG_BYTES = 120 * 1024;

export interface AgentBundle {
  /** The container's command: python3 runs the bootstrap, which unpacks the bundle in memory. */
  command: string[];
  /** Size of the encoded bundle, for the log. */
  bytes: number;
}

async function pythonFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== '__pycache__') out.push(...(await pythonFiles(path)));
    else if (entry.isFile() && entry.name.endsWith('.py')) out.push(path);
  }
  return out.sort();
}

/**
 * The runtime agent travels in the container's argv (base64 of zlib of a JSON map of its sources):
 * no image change, no writable mount, no copy into a read-only root, so any image with python3 works.
 */
export async function buildAgentBundle(sandboxDir = DEFAULT_SANDBOX_DIR): Promise<AgentBundle> {
  const srcDir = join(sandboxDir, 'src');
  const sources: Record<string, string> = {};
  for (const file of await pythonFiles(srcDir)) {
    sources[relative(srcDir, file).split(sep).join('/')] = await readFile(file, 'utf8');
  }
  if (Object.keys(sources).length === 0) throw new Error(`no Python sources found under ${srcDir}`);
  const bundle = deflateSync(Buffer.from(JSON.stringify(sources), 'utf8'), { level: 9 }).toString('base64');
  const bootstrap = await readFile(join(sandboxDir, 'bootstrap.py'), 'utf8');
  for (const [what, text] of [['bootstrap', bootstrap], ['agent bundle', bundle]] as const) {
    if (Buffer.byteLength(text) > MAX_ARG_BYTES) throw new Error(`the ${what} is ${Buffer.byteLength(text)} bytes, over the ${MAX_ARG_BYTES}-byte argv limit`);
  }
  return { command: ['python3', '-I', '-u', '-c', bootstrap, bundle], bytes: bundle.length };
}
