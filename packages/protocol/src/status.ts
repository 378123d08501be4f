import { z } from 'zod';
import { SessionsStatusSchema } from './sessions.js';

/**
 * One MCP server as the status shows it. Only these fields ever leave the daemon: parsing a status
 * through this schema strips anything else (env values, headers, args) a tool host might carry.
 * `state` and `transport` stay open strings so a new state in the tool host cannot break /status.
 */
export const ServerStatusSchema = z.object({
  name: z.string(),
  transport: z.string(),
  source: z.string(),
  state: z.string(),
  tools: z.number().int().nonnegative().optional(),
  lastError: z.string().optional(),
});
export type ServerStatusInfo = z.infer<typeof ServerStatusSchema>;

export const ConfigProblemSchema = z.object({ path: z.string(), message: z.string() });
export type ConfigProblemInfo = z.infer<typeof ConfigProblemSchema>;

/** A config entry left out on purpose (shadowed by an earlier source, disabled, launches the bridge itself). */
export const SkippedServerSchema = z.object({ name: z.string(), path: z.string(), reason: z.string() });
export type SkippedServerInfo = z.infer<typeof SkippedServerSchema>;

/** Body of `POST /v1/reload`: whether the new configuration was taken, and why not. */
export const ReloadResultSchema = z.object({
  applied: z.boolean(),
  message: z.string(),
  servers: z.array(z.string()),
  problems: z.array(ConfigProblemSchema),
});
export type ReloadResult = z.infer<typeof ReloadResultSchema>;

export const PoolStatusSchema = z.object({
  warm: z.number().int().nonnegative(),
  starting: z.number().int().nonnegative(),
  busy: z.number().int().nonnegative(),
  removing: z.number().int().nonnegative(),
  queued: z.number().int().nonnegative(),
  /** Warm sandboxes the pool aims to keep now: grows while runs wait, 0 while it sleeps. */
  target: z.number().int().nonnegative(),
  /** No run for MCP_BRIDGE_RUNTIME_IDLE_TIMEOUT: no warm sandbox until the next run or client. */
  sleeping: z.boolean(),
  created: z.number().int().nonnegative(),
  failedStarts: z.number().int().nonnegative(),
  lastStartError: z.string().optional(),
});
export type PoolStatus = z.infer<typeof PoolStatusSchema>;

const count = z.number().int().nonnegative();

export const RunCountsSchema = z.object({
  total: count,
  success: count,
  error: count,
  timeout: count,
  validation_error: count,
  toolCalls: count,
});
export type RunCounts = z.infer<typeof RunCountsSchema>;

/** The health endpoint as the status reports it: where it listens, or why it does not. */
export const HttpStatusSchema = z.object({
  enabled: z.boolean(),
  address: z.string().optional(),
  port: z.number().int().optional(),
  error: z.string().optional(),
});
export type HttpStatus = z.infer<typeof HttpStatusSchema>;

/** Body of `GET /v1/status` (control socket) and `GET /status` (health endpoint). */
export const DaemonStatusSchema = z.object({
  version: z.string(),
  pid: z.number().int(),
  uptimeSec: z.number().int().nonnegative(),
  rssBytes: z.number().int().nonnegative(),
  engine: z.object({ name: z.string(), version: z.string(), via: z.string() }),
  image: z.string(),
  socket: z.string(),
  http: HttpStatusSchema,
  pool: PoolStatusSchema,
  servers: z.array(ServerStatusSchema),
  configProblems: z.array(ConfigProblemSchema),
  runs: RunCountsSchema,
  /** Absent when the daemon has no session manager (older daemons, tests without one). */
  sessions: SessionsStatusSchema.optional(),
});
export type DaemonStatus = z.infer<typeof DaemonStatusSchema>;
