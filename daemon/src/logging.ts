import { pino, type Level, type Logger } from 'pino';

/**
 * Paths pino masks in every log line. MCP server entries carry secrets in `env` and `headers`
 * (tokens, API keys); whatever logs a server config, a request or an error object with those keys
 * gets `[redacted]` instead of the value, up to three levels deep.
 */
export const REDACT_PATHS = [
  'env',
  'headers',
  '*.env',
  '*.headers',
  '*.*.env',
  '*.*.headers',
  '*.*.*.env',
  '*.*.*.headers',
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
];

export interface LoggerOptions {
  level: Level | 'silent';
  /** The state directory's daemon.log. */
  logFile: string;
  /** Also log to stderr (a daemon in the foreground); off when stderr already is the log file. */
  stderr: boolean;
}

/** The daemon's logger: JSON lines to the log file (mode 0600), and to stderr in the foreground. */
export function createDaemonLogger(options: LoggerOptions): Logger {
  const level = options.level;
  const streams: pino.StreamEntry[] = [
    { level: level === 'silent' ? 'fatal' : level, stream: pino.destination({ dest: options.logFile, append: true, mkdir: true, mode: 0o600, sync: false }) },
  ];
  if (options.stderr) streams.push({ level: level === 'silent' ? 'fatal' : level, stream: pino.destination({ fd: 2, sync: false }) });
  return pino(
    { level, base: { pid: process.pid }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } },
    pino.multistream(streams),
  );
}
