import { z } from 'zod';
import { RunResultSchema } from './run.js';

/**
 * Body of `POST /v1/run`: the run_python input plus how the caller wants the text rendered.
 * Loose on purpose: unknown fields reach the run input check, which drops them, and the daemon names
 * them (`unknownRunFields`) in its log and, unless a client injected them, in the result's summary.
 */
export const RunRequestSchema = z.looseObject({
  code: z.unknown().optional(),
  servers: z.unknown().optional(),
  timeout: z.unknown().optional(),
  session: z.unknown().optional(),
  outputMode: z.enum(['toon', 'json', 'compact']).optional(),
  /** The caller can put a question to its user (the MCP client declared `elicitation`): see docs/APPROVALS.md. */
  canElicit: z.boolean().optional(),
  /** The MCP client's name (its clientInfo), for the audit log. */
  client: z.string().max(256).optional(),
});
export type RunRequest = z.infer<typeof RunRequestSchema>;

/** The data of one image or exported file of a run; its metadata is in the result's `images` or `exports`. */
export const RunAttachmentSchema = z.object({
  kind: z.enum(['image', 'file']),
  mimeType: z.string(),
  /** base64 */
  data: z.string(),
  /** Exports only: the file's name and the resource URI it is returned under. */
  name: z.string().optional(),
  uri: z.string().optional(),
});
export type RunAttachment = z.infer<typeof RunAttachmentSchema>;

/**
 * Answer of `POST /v1/run`: the full result, its rendering for the model, and the data of its images
 * and exports (kept out of `result` so that the result stays small enough to read).
 */
export const RunResponseSchema = z.object({ result: RunResultSchema, text: z.string(), attachments: z.array(RunAttachmentSchema).optional() });
export type RunResponse = z.infer<typeof RunResponseSchema>;

/** One catalogue of control API error codes; docs/ERRORS.md lists every one (a test checks). */
export const ERROR_CODES = {
  bad_request: { status: 400, message: 'The request body is not valid JSON or not of the expected shape.' },
  not_found: { status: 404, message: 'No such endpoint.' },
  method_not_allowed: { status: 405, message: 'The health endpoint is read-only: only GET (and HEAD) are allowed.' },
  unknown_approval: { status: 404, message: 'No open question has this id: it was answered, timed out, or its run ended.' },
  unknown_session: { status: 404, message: 'No open session has this id: it never existed, expired, or was ended.' },
  unknown_server: { status: 404, message: 'No configured MCP server has this alias; the message names the ones there are.' },
  server_unavailable: { status: 503, message: 'The MCP server could not be reached or did not list its tools; the message says why.' },
  request_too_large: { status: 413, message: 'The request body is over the daemon\'s body limit (made from MCP_BRIDGE_MAX_CODE_BYTES); a run gets a validation_error result instead.' },
  busy: { status: 503, message: 'Every sandbox is in use and the wait queue is full; retry shortly or raise MCP_BRIDGE_POOL_MAX / MCP_BRIDGE_QUEUE_MAX.' },
  engine_unavailable: { status: 503, message: 'The container engine does not answer; run `mcp-code-mode doctor`.' },
  shutting_down: { status: 503, message: 'The daemon is shutting down; retry once it is back.' },
  internal: { status: 500, message: 'Unexpected daemon error; see the daemon log.' },
} as const;
export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * Codes that the control client (shim, CLI) gives when it gets no usable answer from the daemon.
 * They never come over the wire; they share the `code` space so callers can branch on one field.
 * docs/ERRORS.md lists these too.
 */
export const CLIENT_ERROR_CODES = {
  daemon_not_running: 'Nothing answers on the control socket (no daemon runs for this state directory), or a stopping daemon closed the connection before taking the run.',
  daemon_unreachable: 'The connection to the daemon broke during a request (the daemon stopped or crashed).',
  request_refused: 'The daemon closed the connection while a large request was still being sent (it refuses bodies past its limit, made from MCP_BRIDGE_MAX_CODE_BYTES); the request never ran.',
  daemon_timeout: 'The daemon accepted the connection but did not answer in time (it is hung or overloaded).',
  bad_response: 'The daemon answered with something that is not the expected JSON.',
  autostart_disabled: 'No daemon runs and MCP_BRIDGE_AUTOSTART=0 forbids starting one.',
  daemon_start_failed: 'A daemon was started but did not answer in time, or exited; its log says why.',
} as const;
export type ClientErrorCode = keyof typeof CLIENT_ERROR_CODES;

export const ErrorBodySchema = z.object({
  error: z.object({ code: z.string(), message: z.string() }),
});
export type ErrorBody = z.infer<typeof ErrorBodySchema>;
