import { z } from 'zod';
import { ApprovalClosedEventSchema, ApprovalEventSchema } from './approvals.js';
import { ErrorBodySchema, RunResponseSchema } from './control.js';

/**
 * The lines of a streamed `POST /v1/run` (`Accept: application/x-ndjson`), one JSON object each:
 * output as it arrives, questions for the user (`approval`, and `approval_closed` when one is withdrawn),
 * then exactly one `result` or `error` line. The daemon writes them through
 * this schema and the control client reads them back with it.
 */
export const OutputEventSchema = z.object({ type: z.literal('output'), stream: z.enum(['stdout', 'stderr']), text: z.string() });
export const ResultEventSchema = RunResponseSchema.extend({ type: z.literal('result') });
export const ErrorEventSchema = ErrorBodySchema.extend({ type: z.literal('error') });
export const RunStreamEventSchema = z.discriminatedUnion('type', [OutputEventSchema, ApprovalEventSchema, ApprovalClosedEventSchema, ResultEventSchema, ErrorEventSchema]);
export type OutputEvent = z.infer<typeof OutputEventSchema>;
export type RunStreamEvent = z.infer<typeof RunStreamEventSchema>;
