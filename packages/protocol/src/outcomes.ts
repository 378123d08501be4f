import { z } from 'zod';

/**
 * The error types the daemon itself gives a run (`result.error.type`), as opposed to the Python
 * exception names that the code raised. The daemon's table of what each one means for the sandbox
 * and the session (daemon/src/runs/sandbox-fate.ts) is keyed by these.
 */
export const DAEMON_ERROR_TYPES = [
  'Timeout',
  'Cancelled',
  'ProtocolError',
  'SandboxExited',
  'SandboxLost',
  'OutOfMemory',
  'ValidationError',
  'SessionEnded',
] as const;
export const DaemonErrorTypeSchema = z.enum(DAEMON_ERROR_TYPES);
export type DaemonErrorType = z.infer<typeof DaemonErrorTypeSchema>;
