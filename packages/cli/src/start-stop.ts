import { parseArgs } from 'node:util';
import { DaemonStatusSchema } from '@mcp-code-mode/protocol';
import { ControlClient, ControlError, DaemonLauncher, statePaths } from '@mcp-code-mode/client';
import { daemonCommandLine, UsageError, type CliContext } from './context.js';

function seconds(raw: string | undefined, option: string): number {
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new UsageError(`${option} must be a positive number of seconds, got ${JSON.stringify(raw)}`);
  return value;
}

/** `mcp-code-mode start`: a detached daemon (or the one already running), ready when this returns. */
export async function startCommand(args: string[], ctx: CliContext): Promise<number> {
  const { values } = parseArgs({ args, options: { timeout: { type: 'string', default: '120' } } });
  const paths = statePaths(ctx.env);
  const control = new ControlClient(paths.socket);
  const already = await control.alive();
  const launcher = new DaemonLauncher({
    paths,
    env: ctx.env,
    // An explicit `start` is the user's own request: MCP_BRIDGE_AUTOSTART only governs the shim.
    autostart: true,
    alive: () => control.alive(),
    command: daemonCommandLine('--background'),
    readyTimeoutMs: seconds(values.timeout, '--timeout') * 1000,
  });
  await launcher.ensure();
  const status = DaemonStatusSchema.safeParse(await control.get('/v1/status'));
  const pid = status.success ? ` (pid ${status.data.pid})` : '';
  ctx.stdout.write(`${already ? 'daemon already running' : 'daemon started'}${pid}\n${paths.socket}\n`);
  return 0;
}

/** `mcp-code-mode stop`: asks the daemon to shut down and waits until its socket is gone. */
export async function stopCommand(args: string[], ctx: CliContext, pollMs = 100): Promise<number> {
  const { values } = parseArgs({ args, options: { timeout: { type: 'string', default: '30' } } });
  const control = new ControlClient(statePaths(ctx.env).socket);
  try {
    await control.post('/v1/shutdown');
  } catch (err) {
    if (err instanceof ControlError && err.code === 'daemon_not_running') {
      ctx.stdout.write('no daemon is running\n');
      return 0;
    }
    throw err;
  }
  const deadline = Date.now() + seconds(values.timeout, '--timeout') * 1000;
  while (await control.alive()) {
    if (Date.now() > deadline) {
      ctx.stderr.write(`the daemon is still answering after ${values.timeout} s; see \`mcp-code-mode logs\`\n`);
      return 1;
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  ctx.stdout.write('daemon stopped\n');
  return 0;
}
