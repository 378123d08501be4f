import { ApprovalAnswerSchema, formatIssues, RunRequestSchema, type OutputMode, type RunAttachment, type RunResponse, type RunStreamEvent } from '@mcp-code-mode/protocol';
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../errors.js';
import { BusyError, ShuttingDownError } from '../pool/run-gate.js';
import { RuntimeUnavailableError } from '../runtimes/runtime.js';
import { renderResult } from '../runs/render.js';
import type { RunService } from '../runs/run-service.js';
import type { ApprovalBroker } from '../approvals/approver.js';

export interface RunRouteDeps {
  runs: Pick<RunService, 'run'>;
  /** Answers the questions of running runs; absent: no approvals route. */
  approvals?: Pick<ApprovalBroker, 'answer'> | undefined;
  outputMode: OutputMode;
  onRun?: (status: string, durationMs: number) => void;
}

/** One line of a streamed answer (see RunStreamEventSchema). */
function line(event: RunStreamEvent): string {
  return JSON.stringify(event) + '\n';
}

/**
 * POST /v1/run. With `Accept: application/x-ndjson` the answer streams the events of
 * RunStreamEventSchema: `output` lines as the code prints, then one `result` (or `error`) line.
 * Otherwise a single JSON RunResponse. The streamed answer's headers go out before the run starts.
 * A client that disconnects cancels its run, and its sandbox is killed.
 */
export function registerRunRoute(app: FastifyInstance, deps: RunRouteDeps): void {
  app.post('/v1/run', async (request, reply) => {
    const parsed = RunRequestSchema.safeParse(request.body ?? {});
    if (!parsed.success) throw new ApiError('bad_request', `invalid run request: ${formatIssues(parsed.error, { root: 'body' })}`);
    const { outputMode, canElicit, client, ...input } = parsed.data;
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
      const attachments: RunAttachment[] = [];
      const result = await deps.runs.run(input, {
        signal: cancel.signal,
        onAttachment: (attachment) => attachments.push(attachment),
        ...(client !== undefined ? { client } : {}),
        // Only a streamed caller can be asked: the questions travel on its stream.
        ...(streaming
          ? {
              onOutput: (stream, text) => reply.raw.write(line({ type: 'output', stream, text })),
              onApproval: (event) => reply.raw.write(line(event)),
              canElicit: canElicit === true,
            }
          : {}),
      });
      deps.onRun?.(result.status, result.durationMs);
      const body: RunResponse = { result, text: renderResult(result, outputMode ?? deps.outputMode), ...(attachments.length > 0 ? { attachments } : {}) };
      if (!streaming) return body;
      reply.raw.end(line({ type: 'result', ...body }));
      return reply;
    } catch (err) {
      const apiError = toApiError(err);
      // Fastify's error handler logs what is unexpected and answers `internal`.
      if (!streaming) throw apiError.code === 'internal' ? err : apiError;
      // A streamed answer bypasses Fastify's error handler: what it does not expect is logged here.
      if (apiError.code === 'internal') request.log.error({ err }, 'a streamed run failed inside the daemon');
      reply.raw.end(line({ type: 'error', ...apiError.body() }));
      return reply;
    }
  });
}

/**
 * POST /v1/runs/approvals/:id: the user's answer to a question of a running run. The id is random
 * and known only to that run's stream; once answered, timed out or withdrawn it is unknown.
 */
export function registerApprovalRoute(app: FastifyInstance, broker: Pick<ApprovalBroker, 'answer'>): void {
  app.post<{ Params: { id: string } }>('/v1/runs/approvals/:id', async (request) => {
    const parsed = ApprovalAnswerSchema.safeParse(request.body ?? {});
    if (!parsed.success) throw new ApiError('bad_request', `invalid approval answer: ${formatIssues(parsed.error, { root: 'body' })}`);
    if (!broker.answer(request.params.id, parsed.data.decision)) {
      throw new ApiError('unknown_approval', `no open question has the id ${JSON.stringify(request.params.id.slice(0, 64))}: it was answered, timed out, or its run ended`);
    }
    return { ok: true };
  });
}

/** The catalogue error for what stopped a run; anything unexpected is `internal`. */
function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof BusyError) return new ApiError('busy', err.message, { cause: err });
  if (err instanceof ShuttingDownError) return new ApiError('shutting_down', err.message, { cause: err });
  if (err instanceof RuntimeUnavailableError) return new ApiError('engine_unavailable', err.message, { cause: err });
  return new ApiError('internal', `unexpected daemon error: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}
