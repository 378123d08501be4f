import { performance } from 'node:perf_hooks';
import type { RunResult, ServerInfo } from '@mcp-code-mode/protocol';
import { RpcFailure, type ToolHost } from './tool-host.js';

/** The answer to input that cannot run: nothing ran, and the message names the field and the fix. */
export function validationResult(message: string, started: number): RunResult {
  return {
    status: 'validation_error',
    summary: `Invalid input: ${message}`,
    exitCode: null,
    stdout: [],
    stderr: [],
    error: { type: 'ValidationError', message },
    servers: [],
    durationMs: Math.round(performance.now() - started),
    toolCalls: 0,
  };
}

/**
 * The metadata of the servers a run asked for, or, when the host refuses one (unknown server), the
 * validation result that names it. Other failures are the daemon's and propagate.
 */
export async function describeServers(host: Pick<ToolHost, 'describe'>, servers: string[], signal: AbortSignal, started: number): Promise<{ infos: ServerInfo[] } | { refused: RunResult }> {
  try {
    return { infos: await host.describe(servers, signal) };
  } catch (err) {
    if (err instanceof RpcFailure) return { refused: validationResult(`servers: ${err.message}`, started) };
    throw err;
  }
}
