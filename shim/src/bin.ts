// Entry point of `mcp-code-mode-shim`: the only shim module that reads process.env and signals.
import { runShim } from './main.js';

const shim = await runShim({ env: process.env });
const stop = (): void => void shim.close();
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
await shim.closed;
