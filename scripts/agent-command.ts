// Prints, as JSON, the exact command the daemon gives each sandbox (python3, the bootstrap, the
// agent bundle), built by the daemon's own code: the Python tests start their agent with it, so
// they test the bundle the daemon ships rather than one of their own.
//   node --import tsx scripts/agent-command.ts
import { buildAgentBundle } from '../daemon/src/agent/agent-bundle.ts';

const bundle = await buildAgentBundle();
process.stdout.write(`${JSON.stringify(bundle.command)}\n`);
