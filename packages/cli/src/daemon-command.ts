// `mcp-code-mode servers` and `image`: the commands that load the config discovery or the engine.
// main.ts imports this module only for them, so that light commands start fast.
import { parseArgs } from 'node:util';
import { discoverServers, formatReport, publicReport, type DiscoveryInputs } from '@mcp-code-mode/daemon/config';
import { buildLocalImage, builderEnv, detectEngine, DockerodeClient, ensureImage, LOCAL_IMAGE } from '@mcp-code-mode/daemon/container';
import { UsageError, type CliContext } from './context.js';
import { loadConfig } from './load-config.js';

export async function serversCommand(args: string[], discovery: DiscoveryInputs, stdout: { write(text: string): unknown }): Promise<number> {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean', default: false } } });
  const report = await discoverServers(discovery);
  stdout.write((values.json ? JSON.stringify(publicReport(report), null, 2) : formatReport(report)) + '\n');
  return report.problems.length > 0 ? 1 : 0;
}

export async function imageCommand(args: string[], ctx: CliContext & { uid: number | undefined }): Promise<number> {
  const config = loadConfig(ctx.env);
  const sub = args[0];
  const endpoint = await detectEngine({ runtime: config.MCP_BRIDGE_RUNTIME, dockerHost: ctx.env.DOCKER_HOST, xdgRuntimeDir: ctx.env.XDG_RUNTIME_DIR, uid: ctx.uid });
  if (!endpoint) throw new UsageError('no container engine found; run scripts/ensure-engine.sh, or set MCP_BRIDGE_RUNTIME / DOCKER_HOST');
  if (sub !== 'build' && sub !== 'ensure') throw new UsageError('image needs a subcommand: build or ensure');
  const client = new DockerodeClient(endpoint);
  await client.ping();
  // The builder imports with the engine's own CLI: it must be the engine behind this socket.
  const buildEnv = builderEnv((await client.version()).name, endpoint, ctx.env);
  const onProgress = (line: string): void => void ctx.stderr.write(`${line}\n`);
  let image = LOCAL_IMAGE;
  if (sub === 'build') await buildLocalImage({ onProgress, buildEnv }, LOCAL_IMAGE);
  else image = await ensureImage(client, { image: config.MCP_BRIDGE_IMAGE, explicit: Boolean(ctx.env.MCP_BRIDGE_IMAGE), onProgress, buildEnv });
  ctx.stdout.write(`${image}\n`);
  return 0;
}
