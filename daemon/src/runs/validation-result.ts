import { performance } from 'node:perf_hooks';
import type { RunResult } from '@mcp-code-mode/protocol';

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
