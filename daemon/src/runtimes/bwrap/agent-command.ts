import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_SANDBOX_DIR } from '../../agent/agent-bundle.js';
import { withInit, withNoexecPrelude } from './launch.js';

/**
 * The agent bundle's command (see buildAgentBundle) as the child of packages/sandbox/init.py (pid 1),
 * with packages/sandbox/noexec.py in front of both: init and agent alike run under Landlock.
 */
export async function bwrapAgentCommand(command: string[], sandboxDir = DEFAULT_SANDBOX_DIR): Promise<string[]> {
  const [init, prelude] = await Promise.all([readFile(join(sandboxDir, 'init.py'), 'utf8'), readFile(join(sandboxDir, 'noexec.py'), 'utf8')]);
  return withNoexecPrelude(withInit(command, init), prelude);
}

/**
 * What BwrapRuntime.precompile() runs for the agent of `command` (the bundle's command, see
 * buildAgentBundle): packages/sandbox/precompile.py under the same init and Landlock prelude as the
 * agent, and the bundle (the command's last argument) that it reads on stdin ('-' stands where the
 * prelude expects the bundle argument).
 */
export async function bwrapPrecompile(command: string[], sandboxDir = DEFAULT_SANDBOX_DIR): Promise<{ command: string[]; bundle: string }> {
  const bundle = command[command.length - 1];
  if (bundle === undefined) throw new Error('the agent command is empty');
  const precompile = await readFile(join(sandboxDir, 'precompile.py'), 'utf8');
  return { command: await bwrapAgentCommand(['python3', '-I', '-S', '-c', precompile, '-'], sandboxDir), bundle };
}
