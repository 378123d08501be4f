import { RunRequestSchema, type OutputMode, type RunResponse } from '@mcp-code-mode/protocol';
import type { FastifyInstance } from 'fastify';
import { EngineError } from '../runtimes/container/container-client.js';
import { ApiError } from '../errors.js';
import { BusyError, ShuttingDownError } from '../pool/run-gate.js';
import type { RunExecutor } from '../runs/executor.js';
import { renderResult } from '../runs/render.js';

export interface RunRouteDeps {
  executor: RunExecutor;
  outputMode: OutputMode;
  onRun?: (status: string, durationMs: number) => void;
}

/**
 * POST /v1/run. With `Accept: application/x-ndjson` the answer streams: one
 * `{"type":"output","stream":...,"text":...}` line per chunk of output, then one
 * `{"type":"result","result":...,"text":...}` line. Otherwise a single JSON RunResponse.
 * The streamed answer's headers go out before the run starts. A client that disconnects cancels its
 * run, and its container is killed.
 */
export function registerRunRoute(app: FastifyInstance, deps: RunRouteDeps): void {
  app.post('/v1/run', async (request, reply) => {
    const parsed = RunRequestSchema.safeParse(request.body ?? {});
    if (!parsed.success) {
      throw new ApiError('bad_request', `invalid run request: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')}`);
    }
    const { outputMode, ...input } = parsed.data;
    const cancel = new AbortController();
    reply.raw.on('close', () => {
      if (!reply.raw.writableFinished) cancel.abort(new Error('client disconnected'));
    });
    const streaming = /application\/x-ndjson/.test(String(request.headers.accept ?? ''));
    if (streaming) {
      reply.hijack();
      reply.raw.writeHead(200, { 'content-type': 'application/x-ndjson' });
      // Sent now, before the run starts: a client that saw no answer at all knows its code never ran
      // (the shim then starts a daemon and sends the run again).
      reply.raw.flushHeaders();
    }
    try {
      const result = await deps.executor.run(input, {
        signal: cancel.signal,
        ...(streaming ? { onOutput: (stream, text) => reply.raw.write(JSON.stringify({ type: 'output', stream, text }) + '\n') } : {}),
      });
      deps.onRun?.(result.status, result.durationMs);
      const body: RunResponse = { result, text: renderResult(result, outputMode ?? deps.outputMode) };
      if (!streaming) return body;
      reply.raw.end(JSON.stringify({ type: 'result', ...body }) + '\n');
      return reply;
    } catch (err) {
      const apiError = toApiError(err);
      if (!streaming) throw apiError;
      const body = apiError instanceof ApiError ? apiError.body() : { error: { code: 'internal', message: (err as Error).message } };
      reply.raw.end(JSON.stringify({ type: 'error', ...body }) + '\n');
      return reply;
    }
  });
}

/** The catalogue error for what stopped a run before it could start; anything else stays as it is. */
function toApiError(err: unknown): unknown {
  if (err instanceof BusyError) return new ApiError('busy', err.message, { cause: err });
  if (err instanceof ShuttingDownError) return new ApiError('shutting_down', err.message, { cause: err });
  if (err instanceof EngineError) return new ApiError('engine_unavailable', err.message, { cause: err });
  return err;
}
