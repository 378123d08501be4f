import { z } from 'zod';

/** Version of the sandbox wire protocol (docs/PROTOCOL.md). */
export const WIRE_VERSION = 1;
/** A frame larger than this is a protocol error on either side. */
export const MAX_FRAME_BYTES = 8 * 1024 * 1024;
/** Every frame starts with this byte; readers discard everything before it. */
export const FRAME_START = 0x1e;
export const FRAME_END = 0x0a;

/** Longest `id` or `re` of a frame, in code points (zod 4 counts those, not UTF-16 units; so does Python's len). */
export const MAX_ID_LENGTH = 128;
/** Longest RPC `method` name, in code points. */
export const MAX_METHOD_LENGTH = 64;
/**
 * Python's hard keywords, frozen so that every Python version agrees (`__peg_parser__` is one in
 * 3.9 only) rather than read from `keyword.kwlist`: no alias may be one.
 */
export const PYTHON_KEYWORDS = [
  'False', 'None', 'True', 'and', 'as', 'assert', 'async', 'await', 'break', 'class', 'continue', 'def', 'del',
  'elif', 'else', 'except', 'finally', 'for', 'from', 'global', 'if', 'import', 'in', 'is', 'lambda', 'nonlocal',
  'not', 'or', 'pass', 'raise', 'return', 'try', 'while', 'with', 'yield', '__peg_parser__',
] as const;
const keywords = new Set<string>(PYTHON_KEYWORDS);
/** ASCII only: the daemon's aliases are (daemon/src/upstreams/aliases.ts), and Unicode identifiers differ between Pythons. */
export const ALIAS_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** A saved tool's name is also a file name on the host: ASCII, starting with a letter, at most 64 characters. */
export const SKILL_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

const notKeyword = (name: string) => !keywords.has(name);
// The messages say what the Python twin (mcp_agent/messages.py) says, so both read alike in a log.
export const AliasSchema = z
  .string()
  .regex(ALIAS_PATTERN, 'must be a Python identifier of ASCII letters, digits and _')
  .refine(notKeyword, 'must not be a Python keyword');
// zod 4's int() takes safe integers only (at most 2^53 - 1 either way); the Python twin checks the same.
const safeInt = z.number().int();
const base = { v: z.literal(WIRE_VERSION), id: z.string().min(1).max(MAX_ID_LENGTH) };
const re = z.string().min(1).max(MAX_ID_LENGTH);
// null is accepted too: a null description must not cost a whole run.
const description = z.string().nullish();

export const ToolInfoSchema = z.object({
  name: z.string(),
  alias: AliasSchema,
  description,
  inputSchema: z.record(z.string(), z.unknown()).nullish(),
});
export type ToolInfo = z.infer<typeof ToolInfoSchema>;

export const ServerInfoSchema = z.object({
  name: z.string(),
  alias: AliasSchema,
  description,
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
  pid: safeInt,
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
  exitCode: safeInt,
  error: ExecErrorSchema.optional(),
  dropped: z.object({ stdout: z.number().int().nonnegative(), stderr: z.number().int().nonnegative() }).optional(),
});
export const RpcFrameSchema = z.object({
  ...base,
  type: z.literal('rpc'),
  method: z.string().min(1).max(MAX_METHOD_LENGTH),
  params: z.record(z.string(), z.unknown()),
});
export const RpcCancelFrameSchema = z.object({ ...base, type: z.literal('rpc_cancel'), re });
/** Longest attachment name (a file name, without its directory), in code points. */
export const MAX_ATTACHMENT_NAME_LENGTH = 255;
/**
 * An image (show_image, plt.show) or an exported file (export_file) of the running code, in its own
 * frame so that it never passes through stdout. `data` is base64 of `bytes` bytes.
 */
export const AttachmentFrameSchema = z.object({
  ...base,
  type: z.literal('attachment'),
  re,
  kind: z.enum(['image', 'file']),
  mimeType: z.string().min(1).max(MAX_ATTACHMENT_NAME_LENGTH),
  name: z.string().min(1).max(MAX_ATTACHMENT_NAME_LENGTH),
  data: z.string(),
  bytes: z.number().int().nonnegative(),
  width: z.number().int().positive().optional(),
  height: z.number().int().positive().optional(),
});
export type AttachmentFrame = z.infer<typeof AttachmentFrameSchema>;

export const AgentFrameSchema = z.discriminatedUnion('type', [
  ReadyFrameSchema,
  PongFrameSchema,
  StreamFrameSchema,
  ResultFrameSchema,
  RpcFrameSchema,
  RpcCancelFrameSchema,
  AttachmentFrameSchema,
]);
export type AgentFrame = z.infer<typeof AgentFrameSchema>;
export type ReadyFrame = z.infer<typeof ReadyFrameSchema>;
export type StreamFrame = z.infer<typeof StreamFrameSchema>;
export type ResultFrame = z.infer<typeof ResultFrameSchema>;
export type RpcFrame = z.infer<typeof RpcFrameSchema>;

/** A saved tool as the daemon sends it with each `execute`: `from skills import <name>` loads it. */
export const SkillSourceSchema = z.object({
  name: z
    .string()
    .regex(SKILL_NAME_PATTERN, 'must be ASCII letters, digits and _, starting with a letter, at most 64 characters')
    .refine(notKeyword, 'must not be a Python keyword'),
  source: z.string(),
});
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
  /** What the code may send back as attachments (MCP_BRIDGE_MAX_IMAGES & co.); absent means none. */
  attachments: z
    .object({
      maxImages: z.number().int().nonnegative(),
      maxImageBytes: z.number().int().positive(),
      maxExportBytes: z.number().int().nonnegative(),
    })
    .optional(),
});
export const RpcResultFrameSchema = z.union([
  // A result the tool left undefined is not in the JSON at all.
  z.object({ ...base, type: z.literal('rpc_result'), re, ok: z.literal(true), result: z.unknown().optional() }),
  z.object({ ...base, type: z.literal('rpc_result'), re, ok: z.literal(false), error: RpcErrorSchema }),
]);

export const HostFrameSchema = z.union([PingFrameSchema, ExecuteFrameSchema, RpcResultFrameSchema]);
export type HostFrame = z.infer<typeof HostFrameSchema>;
export type ExecuteFrame = z.infer<typeof ExecuteFrameSchema>;

/** Any frame of either direction; used to check the shared fixtures. */
export const WireFrameSchema = z.union([AgentFrameSchema, HostFrameSchema]);
