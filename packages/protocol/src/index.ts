export {
  WIRE_VERSION,
  MAX_FRAME_BYTES,
  FRAME_START,
  FRAME_END,
  ToolInfoSchema,
  ServerInfoSchema,
  RpcErrorSchema,
  ExecErrorSchema,
  ReadyFrameSchema,
  PongFrameSchema,
  StreamFrameSchema,
  ResultFrameSchema,
  RpcFrameSchema,
  RpcCancelFrameSchema,
  AgentFrameSchema,
  PingFrameSchema,
  ExecuteFrameSchema,
  RpcResultFrameSchema,
  HostFrameSchema,
  WireFrameSchema,
  SkillSourceSchema,
} from './wire.js';
export type {
  ToolInfo,
  ServerInfo,
  RpcError,
  ExecError,
  AgentFrame,
  ReadyFrame,
  StreamFrame,
  ResultFrame,
  RpcFrame,
  HostFrame,
  ExecuteFrame,
  SkillSource,
} from './wire.js';
export {
  OUTPUT_MODES,
  OutputModeSchema,
  RunInputSchema,
  RUN_STATUSES,
  RunStatusSchema,
  TruncationSchema,
  RunResultSchema,
  CLIENT_INJECTED_FIELDS,
  unknownRunFields,
} from './run.js';
export { IndexServerSchema, IndexToolSchema, RunLimitsInfoSchema, ServerIndexSchema } from './server-index.js';
export type { IndexServer, IndexTool, RunLimitsInfo, ServerIndex } from './server-index.js';
export type { OutputMode, RunInput, RunStatus, Truncation, RunResult } from './run.js';
export { RunRequestSchema, RunResponseSchema, ERROR_CODES, CLIENT_ERROR_CODES, ErrorBodySchema } from './control.js';
export type { RunRequest, RunResponse, ErrorCode, ClientErrorCode, ErrorBody } from './control.js';
export {
  ServerStatusSchema,
  ConfigProblemSchema,
  PoolStatusSchema,
  RunCountsSchema,
  HttpStatusSchema,
  DaemonStatusSchema,
} from './status.js';
export type { ServerStatusInfo, ConfigProblemInfo, PoolStatus, RunCounts, HttpStatus, DaemonStatus } from './status.js';
export { EnvConfigSchema, ENV_VARIABLES, parseEnvConfig } from './config.js';
export type { EnvConfig, ConfigCheck } from './config.js';
export {
  NEW_SESSION,
  RunSessionSchema,
  SessionInfoSchema,
  SessionListSchema,
  SessionEndResponseSchema,
  SessionsStatusSchema,
} from './sessions.js';
export type { RunSession, SessionInfo, SessionList, SessionEndResponse, SessionsStatus } from './sessions.js';
