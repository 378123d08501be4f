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
