import { z } from 'zod';
import { RunSessionSchema } from './sessions.js';

export const OUTPUT_MODES = ['toon', 'json', 'compact'] as const;
export const OutputModeSchema = z.enum(OUTPUT_MODES);
export type OutputMode = z.infer<typeof OutputModeSchema>;

/**
 * The `run_python` tool input, as the MCP client sends it. `timeout` is clamped by the daemon.
 * Unknown top-level fields are dropped, not refused: clients inject their own (the Gemini CLI adds
 * `wait_for_previous` to every tool), and refusing them fails runs the model wrote correctly.
 * `unknownRunFields` names them so the daemon can log them and tell the model.
 */
export const RunInputSchema = z
  .object({
    code: z.string().min(1, 'code must not be empty').describe('Python source to run. Top-level await works; print what you want back.'),
    servers: z
      .array(z.string().min(1))
      .max(64)
      .default([])
      .describe('Names of the MCP servers whose tools this run may call (as mcp_<alias> proxies). Only these are reachable.'),
    timeout: z
      .number()
      .int('timeout must be a whole number of seconds')
      .positive()
      .optional()
      .describe('Seconds before the sandbox is killed; default MCP_BRIDGE_TIMEOUT (30), at most MCP_BRIDGE_MAX_TIMEOUT (120).'),
    session: z
      .string()
      .min(1, 'session must be "new" or the id of an open session')
      .max(128)
      .optional()
      .describe(
        'Omit for a fresh sandbox. "new" starts a session and returns its id in the result; pass that id to later runs to keep variables, imports and /workspace files. Its servers are fixed when it starts.',
      ),
  })
  .strip();
export type RunInput = z.infer<typeof RunInputSchema>;

/** Fields the Gemini CLI and others add to every tool call: dropped without a word to the model. */
export const CLIENT_INJECTED_FIELDS: readonly string[] = ['wait_for_previous'];

/** The top-level fields of a run_python input that RunInputSchema does not know (and drops), in order. */
export function unknownRunFields(input: unknown): string[] {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return [];
  const known = new Set(Object.keys(RunInputSchema.shape));
  return Object.keys(input).filter((key) => !known.has(key));
}

export const RUN_STATUSES = ['success', 'error', 'timeout', 'validation_error'] as const;
export const RunStatusSchema = z.enum(RUN_STATUSES);
export type RunStatus = z.infer<typeof RunStatusSchema>;

export const TruncationSchema = z.object({
  limitBytes: z.number().int(),
  stdoutBytesDropped: z.number().int().nonnegative(),
  stderrBytesDropped: z.number().int().nonnegative(),
});
export type Truncation = z.infer<typeof TruncationSchema>;

/** An image the code returned (show_image, plt.show), without its data: that follows as MCP image content. */
export const ImageInfoSchema = z.object({
  mimeType: z.string(),
  bytes: z.number().int().nonnegative(),
  width: z.number().int().positive().optional(),
  height: z.number().int().positive().optional(),
});
export type ImageInfo = z.infer<typeof ImageInfoSchema>;

/** A file the code exported (export_file), without its data: that follows as an embedded MCP resource. */
export const ExportInfoSchema = z.object({
  name: z.string(),
  uri: z.string(),
  mimeType: z.string(),
  bytes: z.number().int().nonnegative(),
});
export type ExportInfo = z.infer<typeof ExportInfoSchema>;

export const RunResultSchema = z.object({
  status: RunStatusSchema,
  summary: z.string(),
  exitCode: z.number().int().nullable(),
  stdout: z.array(z.string()),
  stderr: z.array(z.string()),
  error: z
    .object({ type: z.string(), message: z.string(), traceback: z.string().optional() })
    .optional(),
  servers: z.array(z.string()),
  durationMs: z.number(),
  toolCalls: z.number().int().nonnegative(),
  truncated: TruncationSchema.optional(),
  /** Present when the run asked for a session: the id to pass next time, or why it ended. */
  session: RunSessionSchema.optional(),
  /** Images and exported files, in the order the code made them; absent when there are none. */
  images: z.array(ImageInfoSchema).optional(),
  exports: z.array(ExportInfoSchema).optional(),
  /** Why attachments the code sent were not returned (over a cap); absent when none were refused. */
  attachmentsRefused: z.array(z.string()).optional(),
});
export type RunResult = z.infer<typeof RunResultSchema>;
