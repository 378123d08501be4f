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
 * packages/sandbox/precompile.py under the same init and Landlock prelude as the agent: it reads the
 * bundle on stdin ('-' stands where the prelude expects the bundle argument) and writes the code.
 */
export async function bwrapPrecompileCommand(sandboxDir = DEFAULT_SANDBOX_DIR): Promise<string[]> {
  const precompile = await readFile(join(sandboxDir, 'precompile.py'), 'utf8');
  return bwrapAgentCommand(['python3', '-I', '-S', '-c', precompile, '-'], sandboxDir);
}
