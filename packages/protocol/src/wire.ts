import { z } from 'zod';

/** Version of the sandbox wire protocol (docs/PROTOCOL.md). */
export const WIRE_VERSION = 1;
/** A frame larger than this is a protocol error on either side. */
export const MAX_FRAME_BYTES = 8 * 1024 * 1024;
/** Every frame starts with this byte; readers discard everything before it. */
export const FRAME_START = 0x1e;
export const FRAME_END = 0x0a;

const base = { v: z.literal(WIRE_VERSION), id: z.string().min(1).max(128) };
const re = z.string().min(1).max(128);

export const ToolInfoSchema = z.object({
  name: z.string(),
  alias: z.string(),
  description: z.string().optional(),
  inputSchema: z.record(z.string(), z.unknown()).optional(),
});
export type ToolInfo = z.infer<typeof ToolInfoSchema>;

export const ServerInfoSchema = z.object({
  name: z.string(),
  alias: z.string(),
  description: z.string().optional(),
  tools: z.array(ToolInfoSchema),
});
export type ServerInfo = z.infer<typeof ServerInfoSchema>;

export const RpcErrorSchema = z.object({ code: z.string(), message: z.string() });
export type RpcError = z.infer<typeof RpcErrorSchema>;

// Agent to daemon.
export const ReadyFrameSchema = z.object({
  ...base,
  type: z.literal('ready'),
  python: z.string(),
  pid: z.number().int(),
  agent: z.string(),
});
export const PongFrameSchema = z.object({ ...base, type: z.literal('pong'), re });
export const StreamFrameSchema = z.object({
  ...base,
  type: z.literal('stream'),
  re,
  name: z.enum(['stdout', 'stderr']),
  data: z.string(),
});
export const ExecErrorSchema = z.object({
  type: z.string(),
  message: z.string(),
  traceback: z.string().optional(),
});
export type ExecError = z.infer<typeof ExecErrorSchema>;
export const ResultFrameSchema = z.object({
  ...base,
  type: z.literal('result'),
  re,
  status: z.enum(['success', 'error']),
  exitCode: z.number().int(),
  error: ExecErrorSchema.optional(),
  dropped: z.object({ stdout: z.number().int().nonnegative(), stderr: z.number().int().nonnegative() }).optional(),
});
export const RpcFrameSchema = z.object({
  ...base,
  type: z.literal('rpc'),
  method: z.string().min(1).max(64),
  params: z.record(z.string(), z.unknown()),
});
export const RpcCancelFrameSchema = z.object({ ...base, type: z.literal('rpc_cancel'), re });

export const AgentFrameSchema = z.discriminatedUnion('type', [
  ReadyFrameSchema,
  PongFrameSchema,
  StreamFrameSchema,
  ResultFrameSchema,
  RpcFrameSchema,
  RpcCancelFrameSchema,
]);
export type AgentFrame = z.infer<typeof AgentFrameSchema>;
export type ReadyFrame = z.infer<typeof ReadyFrameSchema>;
export type StreamFrame = z.infer<typeof StreamFrameSchema>;
export type ResultFrame = z.infer<typeof ResultFrameSchema>;
export type RpcFrame = z.infer<typeof RpcFrameSchema>;

/** A saved tool as the daemon sends it with each `execute`: `from skills import <name>` loads it. */
export const SkillSourceSchema = z.object({ name: z.string().min(1).max(64), source: z.string() });
export type SkillSource = z.infer<typeof SkillSourceSchema>;

// Daemon to agent.
export const PingFrameSchema = z.object({ ...base, type: z.literal('ping') });
export const ExecuteFrameSchema = z.object({
  ...base,
  type: z.literal('execute'),
  code: z.string(),
  servers: z.array(ServerInfoSchema),
  discovered: z.array(z.string()),
  maxOutputBytes: z.number().int().positive(),
  /** The saved tools of the user's state directory; absent means none. */
  skills: z.array(SkillSourceSchema).optional(),
});
export const RpcResultFrameSchema = z.union([
  z.object({ ...base, type: z.literal('rpc_result'), re, ok: z.literal(true), result: z.unknown() }),
  z.object({ ...base, type: z.literal('rpc_result'), re, ok: z.literal(false), error: RpcErrorSchema }),
]);

export const HostFrameSchema = z.union([PingFrameSchema, ExecuteFrameSchema, RpcResultFrameSchema]);
export type HostFrame = z.infer<typeof HostFrameSchema>;
export type ExecuteFrame = z.infer<typeof ExecuteFrameSchema>;

/** Any frame of either direction; used to check the shared fixtures. */
export const WireFrameSchema = z.union([AgentFrameSchema, HostFrameSchema]);
