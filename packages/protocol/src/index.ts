export {
  WIRE_VERSION,
  MAX_FRAME_BYTES,
  FRAME_START,
  FRAME_END,
  MAX_ID_LENGTH,
  MAX_METHOD_LENGTH,
  PYTHON_KEYWORDS,
  ALIAS_PATTERN,
  SKILL_NAME_PATTERN,
  AliasSchema,
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
  AttachmentFrameSchema,
  MAX_ATTACHMENT_NAME_LENGTH,
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
  AttachmentFrame,
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
  ImageInfoSchema,
  ExportInfoSchema,
} from './run.js';
export { IndexServerSchema, IndexToolSchema, RunLimitsInfoSchema, ServerIndexSchema, ServerStubSchema } from './server-index.js';
export type { IndexServer, IndexTool, RunLimitsInfo, ServerIndex, ServerStub } from './server-index.js';
export type { OutputMode, RunInput, RunStatus, Truncation, RunResult, ImageInfo, ExportInfo } from './run.js';
export { RunRequestSchema, RunResponseSchema, RunAttachmentSchema, ERROR_CODES, CLIENT_ERROR_CODES, ErrorBodySchema } from './control.js';
export type { RunRequest, RunResponse, RunAttachment, ErrorCode, ClientErrorCode, ErrorBody } from './control.js';
export {
  APPROVAL_MODES,
  ApprovalModeSchema,
  APPROVAL_DECISIONS,
  ApprovalDecisionSchema,
  ApprovalAnswerSchema,
  ApprovalRuleSchema,
  ApprovalsFileSchema,
  ApprovalEventSchema,
  APPROVAL_DECIDERS,
  ApprovalDeciderSchema,
  ApprovalClosedEventSchema,
  AuditCallSchema,
  AuditRecordSchema,
} from './approvals.js';
export type {
  ApprovalMode,
  ApprovalDecision,
  ApprovalAnswer,
  ApprovalRule,
  ApprovalsFile,
  ApprovalEvent,
  ApprovalDecider,
  ApprovalClosedEvent,
  AuditCall,
  AuditRecord,
} from './approvals.js';
export { OutputEventSchema, ResultEventSchema, ErrorEventSchema, RunStreamEventSchema } from './stream.js';
export type { OutputEvent, RunStreamEvent } from './stream.js';
export { DAEMON_ERROR_TYPES, DaemonErrorTypeSchema } from './outcomes.js';
export type { DaemonErrorType } from './outcomes.js';
export { formatIssues } from './issues.js';
export type { IssueFormat } from './issues.js';
export {
  CallToolParamsSchema,
  CallBatchParamsSchema,
  MAX_BATCH_ITEMS,
  ServerParamsSchema,
  QueryToolDocsParamsSchema,
  SearchToolDocsParamsSchema,
  ReadResourceParamsSchema,
  GetPromptParamsSchema,
} from './rpc-params.js';
export type { CallToolParams, CallBatchParams } from './rpc-params.js';
export {
  ServerStatusSchema,
  ConfigProblemSchema,
  SkippedServerSchema,
  ReloadResultSchema,
  PoolStatusSchema,
  RunCountsSchema,
  HttpStatusSchema,
  DaemonStatusSchema,
} from './status.js';
export type { ServerStatusInfo, ConfigProblemInfo, SkippedServerInfo, ReloadResult, PoolStatus, RunCounts, HttpStatus, DaemonStatus } from './status.js';
export { DEBIAN_PACKAGE_NAME, EnvConfigSchema, ENV_VARIABLES, IMAGE_PROFILES, ImageProfileSchema, parseEnvConfig } from './config.js';
export type { EnvConfig, ConfigCheck, ImageProfile } from './config.js';
export {
  NEW_SESSION,
  RunSessionSchema,
  SessionInfoSchema,
  SessionListSchema,
  SessionEndResponseSchema,
  SessionsStatusSchema,
} from './sessions.js';
export type { RunSession, SessionInfo, SessionList, SessionEndResponse, SessionsStatus } from './sessions.js';
export { RPC_METHODS, RpcMethodSchema, RpcErrorCodeSchema, RPC_ERROR_CODES } from './rpc.js';
export type { RpcMethod, RpcErrorCode, RpcErrorOrigin } from './rpc.js';
