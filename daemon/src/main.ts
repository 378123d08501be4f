// The daemon process: the only module of the daemon that reads process.env, argv and signals.
// Started as `mcp-code-mode daemon [--background]` (the CLI imports this module) or directly by
// `node daemon/dist/main.js`. Everything else takes what it needs as parameters.
import { homedir } from 'node:os';
import { EXIT_ALREADY_RUNNING } from '@mcp-code-mode/client';
import { parseEnvConfig } from '@mcp-code-mode/protocol';
import { startDaemon } from './daemon.js';
import { lockStateDir } from './daemon-lock.js';
import { createDaemonLogger, prettyStderr } from './logging.js';
import { statePaths } from './state-dir.js';
import { createMcpToolHost } from './upstreams/create-host.js';

async function main(): Promise<number> {
  const env = process.env;
  const check = parseEnvConfig(env);
  if (!check.ok) {
    process.stderr.write(`mcp-code-mode: invalid configuration:\n  ${check.problems.join('\n  ')}\n`);
    return 2;
  }
  const config = check.config;
  const paths = statePaths(env);
  const lock = await lockStateDir(paths, process.stderr);
  if (!lock) return EXIT_ALREADY_RUNNING;
  process.once('exit', () => lock.release());
  const background = process.argv.includes('--background');
  const log = createDaemonLogger({
    level: config.MCP_BRIDGE_LOG_LEVEL,
    logFile: paths.logFile,
    stderr: !background,
    stderrStream: !background && process.stderr.isTTY === true ? await prettyStderr() : undefined,
  });
  const toolHost = await createMcpToolHost({ inputs: { home: env.HOME || homedir(), cwd: process.cwd(), env, platform: process.platform }, log });
  const daemon = await startDaemon({
    config,
    paths,
    log,
    toolHost,
    env,
    imageExplicit: Boolean(env.MCP_BRIDGE_IMAGE),
    onProgress: (line) => log.info(line),
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      log.info({ signal }, 'signal received');
      void daemon.close();
    });
  }
  await daemon.closed;
  // Engine HTTP keep-alive sockets must not hold the process open after a clean stop.
  setTimeout(() => process.exit(0), 200).unref();
  return 0;
}

try {
  process.exitCode = await main();
} catch (err) {
  process.stderr.write(`mcp-code-mode: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
