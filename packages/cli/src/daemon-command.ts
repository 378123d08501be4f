// `mcp-code-mode servers` and `image`: the commands that load the config discovery or the engine.
// main.ts imports this module only for them, so that light commands start fast.
import { parseArgs } from 'node:util';
import { discoverServers, formatReport, publicReport, type DiscoveryInputs } from '@mcp-code-mode/daemon/config';
import {
  buildProfileImage,
  builderEnv,
  detectEngine,
  DockerodeClient,
  ensureConfiguredImage,
  imageTag,
  parseImageArgs,
  userPackages,
} from '@mcp-code-mode/daemon/container';
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
  const parsed = parseImageArgs(args);
  if ('problem' in parsed) throw new UsageError(parsed.problem);
  const endpoint = await detectEngine({ runtime: config.MCP_BRIDGE_RUNTIME, dockerHost: ctx.env.DOCKER_HOST, xdgRuntimeDir: ctx.env.XDG_RUNTIME_DIR, uid: ctx.uid });
  if (!endpoint) throw new UsageError('no container engine found; run scripts/ensure-engine.sh, or set MCP_BRIDGE_RUNTIME / DOCKER_HOST');
  const client = new DockerodeClient(endpoint);
  await client.ping();
  // The builder imports with the engine's own CLI: it must be the engine behind this socket.
  const buildEnv = builderEnv((await client.version()).name, endpoint, ctx.env);
  const onProgress = (line: string): void => void ctx.stderr.write(`${line}\n`);
  const cwd = process.cwd();
  let image: string;
  if (parsed.sub === 'build') {
    // `build` always builds with the offline builder: the profile asked for (else the configured one) and the user's packages.
    const profile = parsed.profile ?? config.MCP_BRIDGE_IMAGE_PROFILE;
    const user = userPackages(config, cwd);
    image = await buildProfileImage(client, { profile, tag: imageTag(profile, user), user }, { onProgress, buildEnv });
  } else image = await ensureConfiguredImage(client, config, { explicit: Boolean(ctx.env.MCP_BRIDGE_IMAGE), cwd, onProgress, buildEnv });
  ctx.stdout.write(`${image}\n`);
  return 0;
}
