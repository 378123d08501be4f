import { performance } from 'node:perf_hooks';
import type { DaemonErrorType, ResultFrame, RunResult } from '@mcp-code-mode/protocol';
import type { SandboxDeath } from '../runtimes/runtime.js';
import type { AttachmentMetadata } from './attachments.js';
import type { OutputCollector } from './output.js';
import { deathError } from './sandbox-death.js';

/** How a run on a sandbox ended, as the frame loop saw it. */
export type Outcome =
  | { kind: 'result'; frame: ResultFrame }
  | { kind: 'timeout' }
  | { kind: 'cancelled' }
  | { kind: 'closed'; death: SandboxDeath }
  | { kind: 'violation'; message: string }
  /** The execute frame could not be sent (over the channel's cap): nothing ran. */
  | { kind: 'unsent'; message: string };

/** A run's result and, when the daemon (not the code) ended it, the daemon's error type. */
export interface Ended {
  result: RunResult;
  daemonError?: DaemonErrorType;
}

export function seconds(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

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

export interface ResultContext {
  output: OutputCollector;
  maxOutputBytes: number;
  servers: string[];
  toolCalls: number;
  timeoutSec: number;
  started: number;
  /** Images and exports kept before the run ended, however it ended. */
  attachments?: AttachmentMetadata;
}

/** Whatever happened on the sandbox, as a RunResult value (never an exception). */
export function outcomeToResult(outcome: Outcome, ctx: ResultContext): Ended {
  const { output } = ctx;
  const durationMs = Math.round(performance.now() - ctx.started);
  const base = {
    stdout: output.lines('stdout'),
    stderr: output.lines('stderr'),
    servers: ctx.servers,
    durationMs,
    toolCalls: ctx.toolCalls,
    ...(output.truncated
      ? { truncated: { limitBytes: ctx.maxOutputBytes, stdoutBytesDropped: output.dropped.stdout, stderrBytesDropped: output.dropped.stderr } }
      : {}),
    ...ctx.attachments,
  };
  switch (outcome.kind) {
    case 'result': {
      const { frame } = outcome;
      if (frame.status === 'success') return { result: { ...base, status: 'success', summary: `Success in ${seconds(durationMs)}`, exitCode: frame.exitCode } };
      const error = frame.error ?? { type: 'SystemExit', message: `exit code ${frame.exitCode}` };
      return { result: { ...base, status: 'error', summary: `${error.type}: ${error.message}`.slice(0, 300), exitCode: frame.exitCode, error } };
    }
    case 'timeout': {
      const message = `the code ran past its ${ctx.timeoutSec} s timeout; the sandbox was killed (output so far is kept)`;
      return {
        result: { ...base, status: 'timeout', summary: `Timed out after ${ctx.timeoutSec} s`, exitCode: null, error: { type: 'Timeout', message } },
        daemonError: 'Timeout',
      };
    }
    case 'cancelled':
      return {
        result: { ...base, status: 'error', summary: 'Cancelled', exitCode: null, error: { type: 'Cancelled', message: 'the run was cancelled by the client; its sandbox was killed' } },
        daemonError: 'Cancelled',
      };
    case 'closed': {
      const { summary, type, message } = deathError(outcome.death);
      return { result: { ...base, status: 'error', summary, exitCode: null, error: { type, message } }, daemonError: type };
    }
    case 'violation':
      return {
        result: {
          ...base,
          status: 'error',
          summary: 'Sandbox protocol violation',
          exitCode: null,
          error: { type: 'ProtocolError', message: `the sandbox sent a bad frame and was killed: ${outcome.message}` },
        },
        daemonError: 'ProtocolError',
      };
    case 'unsent':
      return { result: validationResult(`the run could not be sent to the sandbox: ${outcome.message}`, ctx.started), daemonError: 'ValidationError' };
  }
}
