import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_SANDBOX_DIR } from '../../agent/agent-bundle.js';
import { withNoexecPrelude } from './launch.js';

/** The agent bundle's command (see buildAgentBundle) with packages/sandbox/noexec.py in front. */
export async function bwrapAgentCommand(command: string[], sandboxDir = DEFAULT_SANDBOX_DIR): Promise<string[]> {
  return withNoexecPrelude(command, await readFile(join(sandboxDir, 'noexec.py'), 'utf8'));
}
