import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { MAX_FRAME_BYTES } from '@mcp-code-mode/protocol';
import type { ServerConfig } from '../config/schema.js';
import { loadSse, loadStdio, loadStreamableHttp } from './sdk.js';

/** One way to reach a server; `kind` names it in errors ("Streamable HTTP failed: ..."). */
export interface TransportAttempt {
  kind: 'stdio' | 'Streamable HTTP' | 'SSE';
  create: () => Transport | Promise<Transport>;
}

// A server that prints one endless line must not grow the daemon's memory.
const MAX_LINE = 4096;

/**
 * The longest message read from a stdio server (the SDK's default is 10 MiB, and a longer one resets
 * the connection). Twice the sandbox channel's frame: an answer that the channel must refuse anyway is
 * still read whole, so it is refused as `result_too_large` and the server keeps running.
 */
export const STDIO_MAX_MESSAGE_BYTES = 2 * MAX_FRAME_BYTES;

/** Splits a byte stream into lines for the log; a partial line waits for its end. */
export function lineSplitter(onLine: (line: string) => void): { push(chunk: Buffer | string): void; flush(): void } {
  let pending = '';
  return {
    push(chunk) {
      pending += chunk.toString();
      let index: number;
      while ((index = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, index).replace(/\r$/, '');
        pending = pending.slice(index + 1);
        if (line.trim() !== '') onLine(line.slice(0, MAX_LINE));
      }
      if (pending.length > MAX_LINE) {
        onLine(pending.slice(0, MAX_LINE));
        pending = '';
      }
    },
    flush() {
      if (pending.trim() !== '') onLine(pending.slice(0, MAX_LINE));
      pending = '';
    },
  };
}

/**
 * The transports to try, in order, for one server. A remote entry without `type` tries
 * Streamable HTTP then the older SSE transport, as the SDK's own client example does.
 * Server env and headers go into the transport here and nowhere else.
 */
export function transportAttempts(config: ServerConfig, onStderr: (line: string) => void): TransportAttempt[] {
  if (config.transport === 'stdio') {
    return [
      {
        kind: 'stdio',
        create: async () => {
          const { StdioClientTransport } = await loadStdio();
          const transport = new StdioClientTransport({
            command: config.command,
            args: config.args,
            env: config.env,
            ...(config.cwd !== undefined ? { cwd: config.cwd } : {}),
            stderr: 'pipe',
            maxBufferSize: STDIO_MAX_MESSAGE_BYTES,
          });
          const lines = lineSplitter(onStderr);
          transport.stderr?.on('data', (chunk: Buffer) => lines.push(chunk));
          transport.stderr?.on('end', () => lines.flush());
          return transport;
        },
      },
    ];
  }
  const url = new URL(config.url);
  const requestInit: RequestInit = { headers: config.headers };
  const http: TransportAttempt = { kind: 'Streamable HTTP', create: async () => new (await loadStreamableHttp()).StreamableHTTPClientTransport(url, { requestInit }) };
  const sse: TransportAttempt = { kind: 'SSE', create: async () => new (await loadSse()).SSEClientTransport(url, { requestInit }) };
  if (config.transport === 'sse') return [sse];
  return config.sseFallback ? [http, sse] : [http];
}
