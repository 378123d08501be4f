// Entry point of `mcp-code-mode-shim`, the command MCP clients launch; like main.ts, it alone reads
// process.env and signals for it.
import { shimCommand } from './shim-command.js';

process.exitCode = await shimCommand(process.env, (stop) => ['SIGTERM', 'SIGINT'].forEach((signal) => process.once(signal, stop)));
