import { request } from 'node:http';
import { createInterface } from 'node:readline';
import {
  ApprovalClosedEventSchema,
  ApprovalEventSchema,
  ErrorBodySchema,
  RunResponseSchema,
  ServerStubSchema,
  type ApprovalClosedEvent,
  type ApprovalDecision,
  type ApprovalEvent,
  type RunResponse,
  type ServerStub,
} from '@mcp-code-mode/protocol';

/**
 * A control API error answer (a code of ERROR_CODES), or a transport failure (a code of
 * CLIENT_ERROR_CODES: `daemon_not_running` when nothing answers, `daemon_unreachable` when the
 * connection broke mid-request).
 */
export class ControlError extends Error {
  constructor(readonly code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ControlError';
  }
}

/** Every request has an end: the caller's signal, and a timeout (none stays open forever). */
export interface RequestOptions {
  signal?: AbortSignal;
  /** Whole request, answer included; default 10 s (`alive`: 2 s; `run`: none, see answerTimeoutMs). */
  timeoutMs?: number;
  /**
   * Until the daemon begins to answer; default 15 s. A daemon that accepts the connection and never
   * answers is told from one that runs long code: the daemon answers a run's headers before it starts.
   */
  answerTimeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const ALIVE_TIMEOUT_MS = 2_000;
const DEFAULT_ANSWER_TIMEOUT_MS = 15_000;
const STUB_TIMEOUT_MS = 20_000;
/** A body this large may be cut short by the daemon's body limit (the smallest limit is 70 KiB). */
const REFUSABLE_BYTES = 64 * 1024;

export interface RunCall {
  code: unknown;
  servers?: unknown;
  timeout?: unknown;
  session?: unknown;
  outputMode?: 'toon' | 'json' | 'compact';
  /** The caller can ask its user (it handles `onApproval`); see docs/APPROVALS.md. */
  canElicit?: boolean;
  client?: string;
}

export interface RunStreamOptions extends RequestOptions {
  onOutput?: (stream: string, text: string) => void;
  /** A question for the user (answer it with `answerApproval`), or one the daemon withdrew. */
  onApproval?: (event: ApprovalEvent | ApprovalClosedEvent) => void;
}

/** Speaks HTTP to the daemon over its Unix socket. Holds no state but the socket path. */
export class ControlClient {
  constructor(readonly socketPath: string) {}

  private send(
    method: string,
    path: string,
    body: unknown,
    options: RequestOptions & { accept?: string; onLine?: (line: unknown) => void } = {},
  ): Promise<{ status: number; body: unknown }> {
    const timeoutMs = options.timeoutMs;
    const answerTimeoutMs = options.answerTimeoutMs ?? DEFAULT_ANSWER_TIMEOUT_MS;
    // One controller ends the request for every reason; `why` says which, so that a timeout is
    // reported as a timeout (naming the limit) and the caller's own abort as that.
    const control = new AbortController();
    let why: ControlError | undefined;
    const expire = (ms: number, what: string): NodeJS.Timeout => {
      const timer = setTimeout(() => {
        why = new ControlError('daemon_timeout', `the daemon at ${this.socketPath} did not ${what} within ${ms} ms; is it hung? (\`mcp-code-mode doctor\`, or stop it with \`mcp-code-mode stop\`)`);
        control.abort(why);
      }, ms);
      timer.unref();
      return timer;
    };
    const total = timeoutMs !== undefined ? expire(timeoutMs, 'answer') : undefined;
    let first: NodeJS.Timeout | undefined = expire(answerTimeoutMs, 'begin to answer');
    const onCallerAbort = (): void => control.abort(options.signal?.reason);
    if (options.signal?.aborted) onCallerAbort();
    else options.signal?.addEventListener('abort', onCallerAbort, { once: true });
    const cleanup = (): void => {
      clearTimeout(total);
      clearTimeout(first);
      options.signal?.removeEventListener('abort', onCallerAbort);
    };
    return new Promise<{ status: number; body: unknown }>((resolveRaw, rejectRaw) => {
      const resolve = (value: { status: number; body: unknown }): void => {
        cleanup();
        resolveRaw(value);
      };
      const reject = (err: unknown): void => {
        cleanup();
        rejectRaw(why ?? err);
      };
      let answered = false;
      let sent = false;
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const req = request(
        {
          socketPath: this.socketPath,
          // A connection per request: a pooled keep-alive socket to a daemon that has died answers the
          // next request with ECONNRESET instead of the ECONNREFUSED that says "start a new daemon".
          agent: false,
          path,
          method,
          headers: {
            ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}),
            ...(options.accept ? { accept: options.accept } : {}),
          },
          signal: control.signal,
        },
        (res) => {
          answered = true;
          clearTimeout(first);
          first = undefined;
          if (options.onLine && /ndjson/.test(String(res.headers['content-type']))) {
            let last: unknown;
            const lines = createInterface({ input: res });
            lines.on('line', (line) => {
              if (!line.trim()) return;
              try {
                last = JSON.parse(line);
              } catch {
                return reject(new ControlError('bad_response', `the daemon sent a line that is not JSON: ${line.slice(0, 80)}`));
              }
              options.onLine!(last);
            });
            lines.on('close', () => resolve({ status: res.statusCode ?? 0, body: last }));
            // readline re-emits the response's errors (an aborted or broken connection); unheard, they would crash the process.
            const broke = (err: Error): void =>
              reject(options.signal?.aborted ? options.signal.reason : this.brokeWhileAnswering(err));
            lines.on('error', broke);
            res.on('error', broke);
            return;
          }
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (err) => reject(this.brokeWhileAnswering(err)));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            try {
              resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined });
            } catch {
              reject(new ControlError('bad_response', `the daemon answered with something that is not JSON (HTTP ${res.statusCode}): ${text.slice(0, 120)}`));
            }
          });
        },
      );
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (why) return reject(why);
        if (err.name === 'AbortError') return reject(options.signal?.reason ?? err);
        // Refused or missing socket: the request never reached a daemon, so it is safe to start one and retry.
        if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') {
          return reject(
            new ControlError('daemon_not_running', `no daemon answers at ${this.socketPath} (start it with \`mcp-code-mode start\`)`, { cause: err }),
          );
        }
        // The daemon cut a large body short (past its body limit) before answering: a refusal of this
        // request, not a daemon going away; sending it again would be refused again.
        if (!answered && !sent && payload && payload.length > REFUSABLE_BYTES && (err.code === 'EPIPE' || err.code === 'ECONNRESET')) {
          return reject(
            new ControlError(
              'request_refused',
              `the daemon at ${this.socketPath} closed the connection while the ${payload.length}-byte request was being sent: it is over the daemon's body limit; code is limited by MCP_BRIDGE_MAX_CODE_BYTES`,
              { cause: err },
            ),
          );
        }
        // A streamed run whose connection broke before any answer: the daemon sends its headers before
        // it starts a run, so this one never started (the daemon was going away as it arrived).
        if (!answered && options.onLine) {
          return reject(
            new ControlError('daemon_not_running', `the daemon at ${this.socketPath} closed the connection before taking the run (${err.message}); it was stopping`, {
              cause: err,
            }),
          );
        }
        reject(new ControlError('daemon_unreachable', `the connection to the daemon at ${this.socketPath} broke: ${err.message}`, { cause: err }));
      });
      req.on('finish', () => (sent = true));
      if (payload) req.write(payload);
      req.end();
    });
  }

  /** The daemon had begun to answer (for a run: the code had started) when the connection broke. */
  private brokeWhileAnswering(err: Error): ControlError {
    return new ControlError('daemon_unreachable', `the connection to the daemon at ${this.socketPath} broke while it answered (${err.message}): did it stop or crash?`, {
      cause: err,
    });
  }

  private static fail(status: number, body: unknown): never {
    const parsed = ErrorBodySchema.safeParse(body);
    if (parsed.success) throw new ControlError(parsed.data.error.code, parsed.data.error.message);
    throw new ControlError('bad_response', `unexpected answer from the daemon (HTTP ${status})`);
  }

  /**
   * One run, always streamed: output goes to `onOutput` while the run goes on, and a connection that
   * breaks before the daemon answered is told apart (`daemon_not_running`: the code never ran) from
   * one that breaks mid-run (`daemon_unreachable`: it may have).
   */
  async run(call: RunCall, options: RunStreamOptions = {}): Promise<RunResponse> {
    const { onOutput, onApproval, ...request } = options;
    const { status, body } = await this.send('POST', '/v1/run', call, {
      ...request,
      accept: 'application/x-ndjson',
      onLine: (line) => {
        const l = line as { type?: string; stream?: string; text?: string };
        if (onOutput && l.type === 'output' && typeof l.text === 'string') onOutput(String(l.stream), l.text);
        if (onApproval && (l.type === 'approval' || l.type === 'approval_closed')) {
          const event = (l.type === 'approval' ? ApprovalEventSchema : ApprovalClosedEventSchema).safeParse(line);
          if (event.success) onApproval(event.data);
        }
      },
    });
    // A refusal before the run (bad request, busy) is a plain JSON error answer, not a stream.
    if (status !== 200) ControlClient.fail(status, body);
    const last = body as { type?: string } | undefined;
    if (last?.type === 'result') return RunResponseSchema.parse(last);
    if (last?.type === 'error') ControlClient.fail(status, last);
    throw new ControlError('daemon_unreachable', 'the daemon closed the run without an answer (did it stop or crash?)');
  }

  /** The user's answer to a question of a running run. */
  async answerApproval(id: string, decision: ApprovalDecision, options: RequestOptions = {}): Promise<void> {
    await this.post(`/v1/runs/approvals/${encodeURIComponent(id)}`, { decision }, options);
  }

  /**
   * One server's Python stub module (GET /v1/stubs/:alias). The daemon connects the server first if
   * it has to, within its own 10 s, so the default timeout here is longer than a plain GET's.
   */
  async stub(alias: string, options: RequestOptions = {}): Promise<ServerStub> {
    const body = await this.get(`/v1/stubs/${encodeURIComponent(alias)}`, { timeoutMs: STUB_TIMEOUT_MS, ...options });
    const parsed = ServerStubSchema.safeParse(body);
    if (!parsed.success) throw new ControlError('bad_response', `the daemon's stub of ${JSON.stringify(alias)} is not of the expected shape: ${parsed.error.message}`);
    return parsed.data;
  }

  async get(path: string, options: RequestOptions = {}): Promise<unknown> {
    const { status, body } = await this.send('GET', path, undefined, { timeoutMs: DEFAULT_TIMEOUT_MS, ...options });
    if (status !== 200) ControlClient.fail(status, body);
    return body;
  }

  async delete(path: string, options: RequestOptions = {}): Promise<unknown> {
    const res = await this.send('DELETE', path, undefined, { timeoutMs: DEFAULT_TIMEOUT_MS, ...options });
    if (res.status !== 200) ControlClient.fail(res.status, res.body);
    return res.body;
  }

  async post(path: string, body: unknown = {}, options: RequestOptions = {}): Promise<unknown> {
    const res = await this.send('POST', path, body, { timeoutMs: DEFAULT_TIMEOUT_MS, ...options });
    if (res.status !== 200) ControlClient.fail(res.status, res.body);
    return res.body;
  }

  /** True when a daemon answers on the socket (within 2 s unless told otherwise). */
  async alive(options: RequestOptions = {}): Promise<boolean> {
    try {
      await this.get('/v1/status', { timeoutMs: ALIVE_TIMEOUT_MS, answerTimeoutMs: ALIVE_TIMEOUT_MS, ...options });
      return true;
    } catch {
      return false;
    }
  }
}
