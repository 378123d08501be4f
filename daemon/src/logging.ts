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
  /** Where the stderr lines go instead of fd 2 as JSON: a person's terminal gets readable lines (see prettyStderr). */
  stderrStream?: pino.DestinationStream | undefined;
}

/**
 * Readable, coloured lines for a daemon run in a terminal (`npm start`); the log file stays JSON.
 * Loaded only then, so that a daemon in the background never loads pino-pretty.
 */
export async function prettyStderr(): Promise<pino.DestinationStream> {
  const { default: pretty } = await import('pino-pretty');
  return pretty({ destination: 2, colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname', sync: false });
}

/** The daemon's logger: JSON lines to the log file (mode 0600), and to stderr in the foreground. */
export function createDaemonLogger(options: LoggerOptions): Logger {
  const level = options.level;
  const streams: pino.StreamEntry[] = [
    { level: level === 'silent' ? 'fatal' : level, stream: pino.destination({ dest: options.logFile, append: true, mkdir: true, mode: 0o600, sync: false }) },
  ];
  if (options.stderr) streams.push({ level: level === 'silent' ? 'fatal' : level, stream: options.stderrStream ?? pino.destination({ fd: 2, sync: false }) });
  return pino(
    { level, base: { pid: process.pid }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } },
    pino.multistream(streams),
  );
}
